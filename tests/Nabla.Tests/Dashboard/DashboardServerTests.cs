using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Nabla.Cli.Dashboard;
using Nabla.Tests.Testing;
using static Nabla.Tests.Dashboard.DashboardTesting;

namespace Nabla.Tests.Dashboard;

/// <summary>
/// The dashboard's files and endpoints: what a --dashboard run writes, the run list, the event streams (replayed
/// and followed live), the served files and nothing else, the explorer's computation and its refusals.
/// </summary>
[Collection("Dashboard")]
public class DashboardServerTests
{
    [Fact]
    public void TrainWithDashboard_WritesRunFolder_AndStopsServingWithTheRun()
    {
        using var data = new TempDir();
        using var root = new TempDir();
        int port = FreePort();
        var session = RecordTinyRun(data, root.Path, epochs: 3, "--port", port.ToString());
        Assert.False(Listening(port), "the server must stop with the run (no --keep-serving)");

        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(session, "run.json")))!;
        Assert.Equal("finished", (string)info["status"]!);
        Assert.Equal(16, (int)info["steps_per_epoch"]!); // 64 samples, batch 4
        Assert.Equal("8", ((string)info["model"]!).Split('-')[1].Split(' ')[0]);
        var events = EventLines(session);
        var steps = events.Where(e => (string)e["type"]! == "step").ToList();
        var epochs = events.Where(e => (string)e["type"]! == "epoch").ToList();
        Assert.Equal(3 * 16, steps.Count); // 16 batches an epoch: every step is sampled
        Assert.Equal([1, 2, 3], epochs.Select(e => (int)e["epoch"]!));
        Assert.All(steps, s => Assert.Equal(2, s["grad_norms"]!.AsArray().Count)); // one per Linear layer
        Assert.All(steps, s => Assert.True((double)s["grad_norms"]![0]! > 0));
        Assert.True(steps.Select(s => (double)s["epoch"]!).SequenceEqual(steps.Select(s => (double)s["epoch"]!).Order()), "steps in order");
        foreach (var e in epochs)
        {
            var confusion = e["confusion"]!.AsArray();
            Assert.Equal(10, confusion.Count);
            int total = confusion.Sum(r => r!.AsArray().Sum(c => (int)c!));
            int diagonal = Enumerable.Range(0, 10).Sum(i => (int)confusion[i]![i]!);
            Assert.Equal(24, total); // the test set
            Assert.Equal((double)e["test_accuracy"]!, diagonal / 24.0, 5);
            Assert.Equal(24 - diagonal, Math.Min(e["misclassified"]!.AsArray().Count, 24));
            Assert.All(e["misclassified"]!.AsArray(), m => Assert.Equal(16, Convert.FromBase64String((string)m!["pixels"]!).Length));
            Assert.Equal(8, e["units"]!.AsArray().Count); // 8 hidden units of 4×4 inputs
        }
        var end = events[^1];
        Assert.Equal("end", (string)end["type"]!);
        Assert.Equal("finished", (string)end["status"]!);
        Assert.InRange((double)end["test_accuracy"]!, 0, 1);
        var log = File.ReadAllLines(Path.Combine(session, "log.csv"));
        Assert.Equal(Nabla.Training.MetricsCsv.Header, log[0]);
        Assert.Equal(4, log.Length);
    }

    [Fact]
    public async Task Server_ListsRuns_ReplaysEvents_ResumesFromLastEventId()
    {
        using var data = new TempDir();
        using var root = new TempDir();
        var session = RecordTinyRun(data, root.Path);
        using var server = DashboardServer.Start(root.Path, "127.0.0.1", null);
        Assert.StartsWith("http://127.0.0.1:", server.Url);

        var runs = JsonNode.Parse(await Http.GetStringAsync(server.Url + "api/runs"))!.AsArray();
        string id = Path.GetFileName(session);
        Assert.Equal([id], runs.Select(r => (string)r!["id"]!));
        Assert.Equal("finished", (string)runs[0]!["status"]!);

        var lines = File.ReadAllLines(Path.Combine(session, "events.jsonl"));
        var streamed = await ReadEvents($"{server.Url}api/events?run={Uri.EscapeDataString(id)}");
        Assert.Equal(lines, streamed.Select(e => e.Data)); // the whole file, then the stream ends at "end"
        // Event ids are byte offsets into the file: the last is its length, and a page resuming at an offset gets the rest.
        Assert.Equal(new FileInfo(Path.Combine(session, "events.jsonl")).Length.ToString(), streamed[^1].Id);
        long afterTwo = Encoding.UTF8.GetByteCount(lines[0]) + Encoding.UTF8.GetByteCount(lines[1]) + 2;
        var resumed = await ReadEvents($"{server.Url}api/events?run={Uri.EscapeDataString(id)}", afterTwo.ToString());
        Assert.Equal(lines.Skip(2), resumed.Select(e => e.Data));
        var from = await ReadEvents($"{server.Url}api/events?run={Uri.EscapeDataString(id)}&from={afterTwo}");
        Assert.Equal(lines.Skip(2), from.Select(e => e.Data));

        Assert.Equal(File.ReadAllText(Path.Combine(session, "log.csv")), await Http.GetStringAsync($"{server.Url}api/file?run={id}&name=log.csv"));
        var page = await Http.GetStringAsync(server.Url);
        Assert.Contains("<script src=\"/dashboard.js\">", page);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org", "")); // nothing from a CDN
        Assert.Contains("EventSource", await Http.GetStringAsync(server.Url + "dashboard.js"));
    }

    [Fact]
    public async Task Events_FollowALiveRun_UntilItsEnd()
    {
        using var root = new TempDir();
        string run = Path.Combine(root.Path, "s", "live");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "run.json"), "{\"name\":\"live\",\"status\":\"running\"}");
        string events = Path.Combine(run, "events.jsonl");
        File.WriteAllText(events, "{\"type\":\"step\",\"epoch\":0.5}\n");
        using var server = DashboardServer.Start(root.Path, "127.0.0.1", null);

        var reading = ReadEvents(server.Url + "api/events?run=s/live");
        await Task.Delay(600);
        Assert.False(reading.IsCompleted, "a running run's stream stays open");
        File.AppendAllText(events, "{\"type\":\"epoch\",\"epoch\":1}\n{\"type\":\"step\",");
        await Task.Delay(600);
        File.AppendAllText(events, "\"epoch\":1.5}\n{\"type\":\"end\",\"status\":\"finished\"}\n");
        var got = await reading.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["step", "epoch", "step", "end"], got.Select(e => (string)JsonNode.Parse(e.Data)!["type"]!));
        Assert.Equal(1.5, (double)JsonNode.Parse(got[2].Data)!["epoch"]!); // a line written in two parts arrives whole
    }

    [Fact]
    public async Task DamagedFiles_AnOverlongLineIsDropped_AHugeRunJsonIsNotRead()
    {
        using var root = new TempDir();
        string run = Path.Combine(root.Path, "bad");
        Directory.CreateDirectory(run);
        // run.json over the limit (sparse: no disk used) and an events file with a line longer than the limit.
        using (var info = new FileStream(Path.Combine(run, "run.json"), FileMode.Create)) info.SetLength(RunEntry.MaxInfo + 1L);
        using (var events = new FileStream(Path.Combine(run, "events.jsonl"), FileMode.Create))
        {
            events.Write(Encoding.ASCII.GetBytes("{\"type\":\"step\",\"epoch\":0.5}\n"));
            var junk = new byte[1 << 20];
            Array.Fill(junk, (byte)'x');
            for (int i = 0; i < (DashboardServer.MaxLine >> 20) + 2; i++) events.Write(junk);
            events.Write(Encoding.ASCII.GetBytes("\nnot json\n{\"type\":\"end\",\"status\":\"finished\"}\n"));
        }
        using var server = DashboardServer.Start(root.Path, "127.0.0.1", null);
        var runs = JsonNode.Parse(await Http.GetStringAsync(server.Url + "api/runs"))!.AsArray();
        Assert.Equal("damaged", (string)runs.Single()!["status"]!);
        var got = await ReadEvents(server.Url + "api/events?run=bad");
        Assert.Equal(["{\"type\":\"step\",\"epoch\":0.5}", "not json", "{\"type\":\"end\",\"status\":\"finished\"}"], got.Select(e => e.Data));
    }

    public static TheoryData<string> Traversals => new()
    {
        "api/file?run=..&name=passwd",
        "api/file?run=../..&name=run.json",
        "api/file?run=%2e%2e%2f%2e%2e&name=run.json",
        "api/file?run=/etc&name=passwd",
        "api/file?run=s/ok&name=../../secret.txt",
        "api/file?run=s/ok&name=..%2f..%2fsecret.txt",
        "api/file?run=s/ok&name=%2fetc%2fpasswd",
        "api/file?run=s/ok&name=secret.txt",
        "api/file?run=s/../s/ok&name=run.json",
        "api/file?run=s/ok/&name=run.json",
        "api/file?run=outside&name=run.json",
        "api/events?run=..",
        "api/events?run=outside",
        "..%2f..%2fsecret.txt",
        "%2e%2e/%2e%2e/secret.txt",
        "dashboard.js/../../secret.txt",
        "s/ok/run.json",
    };

    [Theory]
    [MemberData(nameof(Traversals))]
    public async Task NothingOutsideTheRunFiles_IsServed(string path)
    {
        using var outer = new TempDir();
        File.WriteAllText(outer.File("secret.txt"), "SECRET");
        string root = Path.Combine(outer.Path, "runs");
        string ok = Path.Combine(root, "s", "ok");
        Directory.CreateDirectory(ok);
        File.WriteAllText(Path.Combine(ok, "run.json"), "{}");
        File.WriteAllText(Path.Combine(ok, "events.jsonl"), "");
        File.WriteAllText(Path.Combine(ok, "secret.txt"), "SECRET");
        // A link inside the root to a run outside it is not followed.
        string elsewhere = Path.Combine(outer.Path, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        File.WriteAllText(Path.Combine(elsewhere, "run.json"), "{\"secret\":\"SECRET\"}");
        File.WriteAllText(Path.Combine(elsewhere, "events.jsonl"), "{\"secret\":\"SECRET\"}\n");
        Directory.CreateSymbolicLink(Path.Combine(root, "outside"), elsewhere);
        using var server = DashboardServer.Start(root, "127.0.0.1", null);

        using var response = await Http.GetAsync(server.Url + path);
        string body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("SECRET", body);
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["s/ok"], JsonNode.Parse(await Http.GetStringAsync(server.Url + "api/runs"))!.AsArray().Select(r => (string)r!["id"]!));
        Assert.Equal("{}", await Http.GetStringAsync(server.Url + "api/file?run=s/ok&name=run.json")); // the control: a run file is served
    }

    [Fact]
    public async Task ARunWhoseProcessIsGone_IsListedAsStopped()
    {
        using var root = new TempDir();
        // A process that has exited: its id names no running process (the run was killed mid-way).
        using var gone = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        foreach (var (name, pid) in new[] { ("killed", gone.Id), ("alive", Environment.ProcessId) })
        {
            string run = Path.Combine(root.Path, name);
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, "run.json"), new JsonObject { ["status"] = "running", ["host"] = Environment.MachineName, ["pid"] = pid }.ToJsonString());
            File.WriteAllText(Path.Combine(run, "events.jsonl"), "");
        }
        using var server = DashboardServer.Start(root.Path, "127.0.0.1", null);
        var runs = JsonNode.Parse(await Http.GetStringAsync(server.Url + "api/runs"))!.AsArray();
        Assert.Equal("running", (string)runs.Single(r => (string)r!["id"]! == "alive")!["status"]!);
        Assert.Equal("stopped", (string)runs.Single(r => (string)r!["id"]! == "killed")!["status"]!);
    }

    [Fact]
    public async Task AnotherHostName_IsRefused()
    {
        using var root = new TempDir();
        using var server = DashboardServer.Start(root.Path, "127.0.0.1", null);
        using var request = new HttpRequestMessage(HttpMethod.Get, server.Url + "api/runs");
        request.Headers.Host = "attacker.example";
        using var response = await Http.SendAsync(request);
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        using var local = new HttpRequestMessage(HttpMethod.Get, server.Url.Replace("127.0.0.1", "localhost") + "api/runs");
        Assert.Equal(HttpStatusCode.OK, (await Http.SendAsync(local)).StatusCode);
    }

    [Fact]
    public async Task Explorer_ComputesTheWorkedExample_AndAgreesWithAutogradOnAnyNetwork()
    {
        using var root = new TempDir();
        using var server = DashboardServer.Start(root.Path, "127.0.0.1", null);
        var example = JsonNode.Parse(await Http.GetStringAsync(server.Url + "api/explorer/example"))!;
        Assert.Equal(0.2084, (double)example["loss"]!, 4);
        Assert.Equal([0.1375, 0.1375, -0.1375, -0.1375], example["q"]![1]!.AsArray().SelectMany(r => r!.AsArray()).Select(v => Math.Round((double)v!, 4)));
        Assert.Equal([-0.1110, 0, 0.1110, 0.0370, 0, -0.0370], example["q"]![0]!.AsArray().SelectMany(r => r!.AsArray()).Select(v => Math.Round((double)v!, 4)));
        Assert.Equal([0.7311, 0.7311], example["z"]![1]!.AsArray().Select(v => Math.Round((double)v!, 4)));

        // A 4-3-3-2 network: the backward loop's q_i equal autograd's gradients and a finite difference of f.
        var rng = new Random(3);
        double R() => Math.Round(rng.NextDouble() * 4 - 2, 2);
        int[] widths = [4, 3, 3, 2];
        var weights = Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, widths[i + 1]).Select(_ => Enumerable.Range(0, widths[i]).Select(_ => R()).ToArray()).ToArray()).ToArray();
        double[] x = [R(), R(), R(), R()], y = [1, 0];
        var body = new JsonObject
        {
            ["x"] = new JsonArray([.. x.Select(v => (JsonNode)v)]),
            ["y"] = new JsonArray([.. y.Select(v => (JsonNode)v)]),
            ["weights"] = new JsonArray([.. weights.Select(w => (JsonNode)new JsonArray([.. w.Select(r => (JsonNode)new JsonArray([.. r.Select(v => (JsonNode)v)]))]))]),
        };
        using var response = await Http.PostAsync(server.Url + "api/explorer", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.InRange((double)result["max_difference"]!, 0, 1e-6);
        for (int i = 0; i < 3; i++)
            for (int r = 0; r < widths[i + 1]; r++)
                for (int c = 0; c < widths[i]; c++)
                {
                    double q = (double)result["q"]![i]![r]![c]!, a = (double)result["autograd"]![i]![r]![c]!;
                    Assert.Equal(q, a, 5);
                    double w = weights[i][r][c], h = 1e-5;
                    weights[i][r][c] = w + h;
                    double up = Loss(weights, x, y);
                    weights[i][r][c] = w - h;
                    double down = Loss(weights, x, y);
                    weights[i][r][c] = w;
                    Assert.Equal((up - down) / (2 * h), q, 6);
                }
    }

    /// <summary>f = −⟨log γ(W_L σ(… σ(W_0 x))), y⟩, independently of the library.</summary>
    private static double Loss(double[][][] weights, double[] x, double[] y)
    {
        var z = x;
        for (int i = 0; i < weights.Length; i++)
        {
            var t = weights[i].Select(row => row.Zip(z, (a, b) => a * b).Sum()).ToArray();
            if (i < weights.Length - 1) z = [.. t.Select(v => 1 / (1 + Math.Exp(-v)))];
            else
            {
                double m = t.Max(), s = t.Sum(v => Math.Exp(v - m));
                z = [.. t.Select(v => Math.Exp(v - m) / s)];
            }
        }
        return -z.Zip(y, (a, b) => b * Math.Log(a)).Sum();
    }

    [Theory]
    [InlineData("not json", "")]
    [InlineData("[1,2]", "object")]
    [InlineData("{\"x\":[1,0,-1],\"y\":[0,1]}", "weights")]
    [InlineData("{\"x\":[1,0,-1],\"y\":[0,1],\"weights\":[[[0,1],[2,0]],[[-1,0],[2,-1]]]}", "W0 must have 3 columns")]
    [InlineData("{\"x\":[1,0,-1],\"y\":[0,1,0],\"weights\":[[[0,1,-1],[2,0,1]],[[-1,0],[2,-1]]]}", "y must have 2")]
    [InlineData("{\"x\":[1,0,-1],\"y\":[0,-1],\"weights\":[[[0,1,-1],[2,0,1]],[[-1,0],[2,-1]]]}", "distribution")]
    [InlineData("{\"x\":[1,\"NaN\",-1],\"y\":[0,1],\"weights\":[[[0,1,-1],[2,0,1]],[[-1,0],[2,-1]]]}", "x[1]")]
    [InlineData("{\"x\":[1,0,1e9],\"y\":[0,1],\"weights\":[[[0,1,-1],[2,0,1]],[[-1,0],[2,-1]]]}", "x[2]")]
    [InlineData("{\"x\":[1,1,1,1,1,1,1,1,1],\"y\":[1],\"weights\":[[[1,1,1,1,1,1,1,1,1]]]}", "x must be a list of 1 to 8")]
    public async Task Explorer_RefusesBadNetworks_WithTheReason(string body, string reason)
    {
        using var root = new TempDir();
        using var server = DashboardServer.Start(root.Path, "127.0.0.1", null);
        using var response = await Http.PostAsync(server.Url + "api/explorer", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!);
    }

    [Fact]
    public async Task Explorer_RefusesAHugeBody_BeforeReadingIt()
    {
        using var root = new TempDir();
        using var server = DashboardServer.Start(root.Path, "127.0.0.1", null);
        // Headers announcing 1 MiB, no body sent: the answer comes from the header alone.
        var uri = new Uri(server.Url);
        using (var client = new System.Net.Sockets.TcpClient("127.0.0.1", uri.Port))
        {
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /api/explorer HTTP/1.1\r\nHost: 127.0.0.1:{uri.Port}\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"));
            var reply = new byte[256];
            int n = await stream.ReadAsync(reply).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.StartsWith("HTTP/1.1 413", Encoding.ASCII.GetString(reply, 0, n));
        }
        using var put = await Http.PutAsync(server.Url + "api/explorer", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
    }
}
