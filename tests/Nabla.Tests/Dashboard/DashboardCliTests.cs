using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Nabla.Cli.Dashboard;
using Nabla.Tests.Testing;
using static Nabla.Tests.Dashboard.DashboardTesting;

namespace Nabla.Tests.Dashboard;

/// <summary>The dashboard's flags and command through the CLI entry point: one line and an exit code for each mistake.</summary>
[Collection("Dashboard")]
public class DashboardCliTests
{
    private static void OneLine(string err, params string[] words)
    {
        Assert.StartsWith("nabla: error:", err);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", err);
        foreach (var w in words) Assert.Contains(w, err);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-5")]
    [InlineData("http")]
    public void BadPort_IsAUsageError(string port)
    {
        var (code, _, err) = Run("train", "--dashboard", "--port", port, "--data", "/nonexistent");
        Assert.Equal(2, code);
        OneLine(err, "--port");
    }

    [Theory]
    [InlineData("train", "--port", "8080")]
    [InlineData("seed", "--keep-serving")]
    [InlineData("compare", "--host", "0.0.0.0")]
    [InlineData("train", "--runs", "somewhere")]
    public void ServingFlags_NeedDashboard(params string[] args)
    {
        var (code, _, err) = Run([.. args, "--data", "/nonexistent"]);
        Assert.Equal(2, code);
        OneLine(err, args[1], "needs --dashboard");
    }

    [Fact]
    public void BadHost_IsAUsageError()
    {
        var (code, _, err) = Run("train", "--dashboard", "--host", "not a host!", "--data", "/nonexistent");
        Assert.Equal(2, code);
        OneLine(err, "--host");
    }

    [Fact]
    public void PortInUse_OneLine_BeforeAnyDataIsRead()
    {
        using var root = new TempDir();
        var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        try
        {
            int port = ((IPEndPoint)busy.LocalEndpoint).Port;
            // The data folder does not exist: the port's error comes first, so nothing was loaded or trained.
            var (code, _, err) = Run("train", "--dashboard", "--port", port.ToString(), "--runs", root.Path, "--data", "/nonexistent");
            Assert.Equal(1, code);
            OneLine(err, $"port {port}", "in use", "--port");
            Assert.Empty(Directory.GetDirectories(root.Path)); // no session folder left behind
        }
        finally
        {
            busy.Stop();
        }
    }

    [Fact]
    public void RunsFolderThatIsAFile_IsRefusedBeforeTraining()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("runs"), "");
        var (code, _, err) = Run("train", "--dashboard", "--runs", dir.File("runs"), "--data", "/nonexistent");
        Assert.Equal(2, code);
        OneLine(err, "--runs", "is a file");
    }

    [Fact]
    public void DashboardCommand_MissingFolder_OneLine()
    {
        var (code, _, err) = Run("dashboard", "/nonexistent/runs");
        Assert.Equal(1, code);
        OneLine(err, "/nonexistent/runs", "no such folder", "--dashboard");
    }

    [Fact]
    public async Task DashboardCommand_ReopensFinishedRuns_UntilStopped()
    {
        using var data = new TempDir();
        using var root = new TempDir();
        RecordTinyRun(data, root.Path);
        RecordTinyRun(data, root.Path, 1, "--optimizer", "sgd");
        int port = FreePort();
        var o = new StringWriter();
        var serving = Task.Run(() => Nabla.Cli.Program.Run(["dashboard", root.Path, "--port", port.ToString()], TextWriter.Synchronized(o), TextWriter.Null));
        WaitForPort(port, TimeSpan.FromSeconds(20));
        var runs = JsonNode.Parse(await Http.GetStringAsync($"http://127.0.0.1:{port}/api/runs"))!.AsArray();
        Assert.Equal(2, runs.Count);
        Assert.Equal(["Adam", "SGD"], runs.Select(r => (string)r!["optimizer"]!).Order());
        foreach (var run in runs)
        {
            var events = await ReadEvents($"http://127.0.0.1:{port}/api/events?run={Uri.EscapeDataString((string)run!["id"]!)}");
            Assert.Equal("end", (string)JsonNode.Parse(events[^1].Data)!["type"]!);
        }
        Assert.False(serving.IsCompleted);
        StopSignal.Request();
        Assert.Equal(0, await serving.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains($"http://127.0.0.1:{port}/", o.ToString());
        Assert.False(Listening(port));
    }

    [Fact]
    public void Seed_WithDashboard_RecordsTwoPhases_AdamContinuingSgd()
    {
        using var data = new TempDir();
        data.WriteDataset(train: 64, test: 16);
        using var root = new TempDir();
        var (code, o, e) = Run("seed", "--data", data.Path, "--dashboard", "--runs", root.Path);
        Assert.True(code == 0, e);
        Assert.Contains("Dashboard: http://127.0.0.1:", o);
        string session = Directory.GetDirectories(root.Path).Single();
        var sgd = EventLines(Path.Combine(session, "sgd")).Where(x => (string)x["type"]! == "epoch").Select(x => (int)x["epoch"]!);
        var adam = EventLines(Path.Combine(session, "adam")).Where(x => (string)x["type"]! == "epoch").Select(x => (int)x["epoch"]!);
        Assert.Equal(Enumerable.Range(1, 10), sgd);
        Assert.Equal([11, 12, 13], adam);
        var adamSteps = EventLines(Path.Combine(session, "adam")).Where(x => (string)x["type"]! == "step").Select(x => (double)x["epoch"]!).ToList();
        Assert.InRange(adamSteps[0], 10, 11);
        Assert.Equal(13, adamSteps[^1], 6);
    }

    [Fact]
    public async Task KeepServing_ServesAfterTheRun_UntilStopped()
    {
        using var data = new TempDir();
        data.WriteDataset(train: 64, test: 24);
        using var root = new TempDir();
        int port = FreePort();
        var o = new StringWriter();
        var output = TextWriter.Synchronized(o);
        var training = Task.Run(() => Nabla.Cli.Program.Run(["train", "--data", data.Path, "--epochs", "1", "--hidden", "8", "--dashboard",
            "--runs", root.Path, "--port", port.ToString(), "--keep-serving"], output, TextWriter.Null));
        var end = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!o.ToString().Contains("Press Ctrl+C", StringComparison.Ordinal) && DateTime.UtcNow < end && !training.IsCompleted) await Task.Delay(50);
        Assert.False(training.IsCompleted, o.ToString());
        Assert.Contains("Test accuracy", o.ToString()); // the run is over
        var runs = JsonNode.Parse(await Http.GetStringAsync($"http://127.0.0.1:{port}/api/runs"))!.AsArray();
        Assert.Equal("finished", (string)runs.Single()!["status"]!);
        StopSignal.Request();
        Assert.Equal(0, await training.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(Listening(port));
    }

    [Fact]
    public void Compare_WithDashboard_OneRunPerOptimizer_SameSession()
    {
        using var data = new TempDir();
        data.WriteDataset(train: 64, test: 16);
        using var root = new TempDir();
        var (code, o, e) = Run("compare", "--data", data.Path, "--optimizers", "sgd,adam,rmsprop", "--epochs", "2", "--hidden", "8", "--dashboard", "--runs", root.Path);
        Assert.True(code == 0, e);
        string session = Directory.GetDirectories(root.Path).Single();
        Assert.EndsWith("-compare", session);
        Assert.Equal(["adam", "rmsprop", "sgd"], Directory.GetDirectories(session).Select(Path.GetFileName).Order());
        foreach (var run in Directory.GetDirectories(session))
        {
            var events = EventLines(run);
            Assert.Equal(2, events.Count(x => (string)x["type"]! == "epoch"));
            Assert.Equal("finished", (string)events[^1]["status"]!);
        }
    }

    [Fact]
    public void Regression_WithDashboard_RecordsLossesOnly()
    {
        using var dir = new TempDir();
        foreach (var (name, n) in new[] { ("r_train.csv", 120), ("r_test.csv", 40) })
            File.WriteAllLines(dir.File(name), ["a,b,y", .. Enumerable.Range(0, n).Select(i => $"{i % 7},{i % 5},{2 * (i % 7) - (i % 5)}")]);
        using var root = new TempDir();
        var (code, _, e) = Run("train", "--task", "regression", "--dataset", "csv", "--data", dir.Path, "--label-column", "y",
            "--epochs", "2", "--hidden", "8", "--dashboard", "--runs", root.Path);
        Assert.True(code == 0, e);
        string run = Directory.GetDirectories(root.Path).Single();
        Assert.Empty(JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!["classes"]!.AsArray());
        var epochs = EventLines(run).Where(x => (string)x["type"]! == "epoch").ToList();
        Assert.Equal(2, epochs.Count);
        Assert.All(epochs, x => Assert.Null(x["confusion"]));
        Assert.All(epochs, x => Assert.Null(x["train_accuracy"]));
        Assert.True((double)EventLines(run)[^1]["test_loss"]! >= 0);
    }
}
