using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Nabla.Cli.Dashboard;
using Nabla.Tests.Testing;
using static Nabla.Tests.Dashboard.DashboardTesting;

namespace Nabla.Tests.Dashboard;

/// <summary>
/// The dashboard's server under hostile run folders and requests, through real sockets on 127.0.0.1: run files that
/// are links (to files, devices, FIFOs), files that are not regular, Host header forms, HEAD, and a client that
/// leaves mid-stream (the server's CPU must fall back to idle). Nothing outside the run files is ever served and no
/// request can hang or spin the server for others.
/// </summary>
[Collection("Dashboard")]
public class DashboardSecurityTests
{
    /// <summary>A run folder whose run.json is fine and whose other files are what <paramref name="make"/> makes them.</summary>
    private static string Run(string root, string name, Action<string>? make = null)
    {
        string run = Path.Combine(root, "s", name);
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "run.json"), "{\"status\":\"finished\"}");
        File.WriteAllText(Path.Combine(run, "events.jsonl"), "{\"type\":\"end\",\"status\":\"finished\"}\n");
        File.WriteAllText(Path.Combine(run, "log.csv"), "epoch,loss\n1,0.5\n");
        make?.Invoke(run);
        return run;
    }

    private static void Replace(string file, Action<string> with)
    {
        File.Delete(file);
        with(file);
    }

    /// <summary>One raw HTTP/1.1 request (Connection: close): the whole reply, or what came within the timeout.</summary>
    private static async Task<string> Raw(int port, string request, TimeSpan? timeout = null)
    {
        using var client = new TcpClient("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var reply = new MemoryStream();
        var buffer = new byte[8192];
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cts.Token)) > 0 && reply.Length < 1 << 20) reply.Write(buffer, 0, n);
        }
        catch (OperationCanceledException)
        {
            // what came so far
        }
        catch (IOException)
        {
            // reset by the server: what came so far
        }
        return Encoding.ASCII.GetString(reply.ToArray());
    }

    private static string Get(int port, string path, string? host = null) =>
        $"GET {path} HTTP/1.1\r\nHost: {host ?? $"127.0.0.1:{port}"}\r\nConnection: close\r\n\r\n";

    public static TheoryData<string> LinkedFiles => new() { "log.csv", "events.jsonl", "run.json" };

    [Theory]
    [MemberData(nameof(LinkedFiles))]
    public async Task ARunFileThatIsALink_IsNeverFollowed(string name)
    {
        using var outer = new TempDir();
        string root = Path.Combine(outer.Path, "runs");
        File.WriteAllText(outer.File("secret.txt"), "SECRET");
        Run(root, "ok");
        Run(root, "linked", r => Replace(Path.Combine(r, name), f => File.CreateSymbolicLink(f, outer.File("secret.txt"))));
        Run(root, "passwd", r => Replace(Path.Combine(r, name), f => File.CreateSymbolicLink(f, "/etc/passwd")));
        using var server = DashboardServer.Start(root, "127.0.0.1", null);
        int port = new Uri(server.Url).Port;
        foreach (var run in new[] { "s/linked", "s/passwd" })
        {
            foreach (var path in new[] { $"/api/file?run={run}&name={name}", $"/api/events?run={run}", $"/api/file?run={run}&name=log.csv" })
            {
                string reply = await Raw(port, Get(port, path));
                Assert.DoesNotContain("SECRET", reply);
                Assert.DoesNotContain("root:", reply);
                if (path.Contains(name) || name == "run.json") Assert.StartsWith("HTTP/1.1 404", reply);
            }
        }
        // A run whose run.json or events.jsonl is a link is not a run at all; the control run is listed and served.
        var ids = JsonNode.Parse(await Http.GetStringAsync(server.Url + "api/runs"))!.AsArray().Select(r => (string)r!["id"]!).ToList();
        Assert.Contains("s/ok", ids);
        if (name != "log.csv") Assert.Equal(["s/ok"], ids);
        Assert.Contains("1,0.5", await Http.GetStringAsync(server.Url + "api/file?run=s/ok&name=log.csv"));
    }

    public static TheoryData<string, string> NotRegular => new()
    {
        { "log.csv", "fifo" }, { "events.jsonl", "fifo" }, { "run.json", "fifo" },
        { "log.csv", "/dev/zero" }, { "events.jsonl", "/dev/zero" }, { "run.json", "/dev/zero" },
        { "log.csv", "/dev/urandom" }, { "events.jsonl", "folder" },
    };

    [Theory]
    [MemberData(nameof(NotRegular))]
    public async Task RunFilesThatAreNotRegular_AreRefusedAtOnce_AndNothingHangs(string name, string what)
    {
        using var outer = new TempDir();
        string root = Path.Combine(outer.Path, "runs");
        Run(root, "ok");
        Run(root, "odd", r => Replace(Path.Combine(r, name), f =>
        {
            if (what == "fifo") TempDir.MakeFifo(f);
            else if (what == "folder") Directory.CreateDirectory(f);
            else File.CreateSymbolicLink(f, what);
        }));
        using var server = DashboardServer.Start(root, "127.0.0.1", null);
        int port = new Uri(server.Url).Port;
        var clock = Stopwatch.StartNew();
        // The list answers (a FIFO run.json once hung it for every client), and the odd file is not served.
        string list = await Raw(port, Get(port, "/api/runs"), TimeSpan.FromSeconds(5));
        Assert.StartsWith("HTTP/1.1 200", list);
        Assert.Contains("s/ok", list);
        string file = await Raw(port, Get(port, name == "events.jsonl" ? "/api/events?run=s/odd" : $"/api/file?run=s/odd&name={name}"), TimeSpan.FromSeconds(5));
        Assert.StartsWith("HTTP/1.1 404", file);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    public static TheoryData<string, bool> Hosts => new()
    {
        { "127.0.0.1:{P}", true },
        { "localhost:{P}", true },
        { "LOCALHOST:{P}", true },
        { "127.0.0.1:{P}@other.example", false },
        { "user@127.0.0.1:{P}", false },
        { "127.0.0.1:{P}/x", false },
        { "127.0.0.1", false },
        { "127.0.0.1:{Q}", false },
        { "attacker.example:{P}", false },
        { "127.0.0.1:{P} ", true }, // trailing whitespace is not part of a header's value
        { "127.0.0.1:0{P}", false },
        { "[::1]:{P}", false },
    };

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task TheHostHeader_MustNameExactlyTheServedHostAndPort(string host, bool allowed)
    {
        using var root = new TempDir();
        using var server = DashboardServer.Start(root.Path, "127.0.0.1", null);
        int port = new Uri(server.Url).Port;
        string reply = await Raw(port, Get(port, "/api/runs", host.Replace("{P}", port.ToString()).Replace("{Q}", (port + 1).ToString())));
        if (allowed) Assert.StartsWith("HTTP/1.1 200", reply);
        else Assert.DoesNotMatch("^HTTP/1.1 200", reply);
    }

    [Fact]
    public async Task ARequestWithoutHost_IsRefused()
    {
        using var root = new TempDir();
        using var server = DashboardServer.Start(root.Path, "127.0.0.1", null);
        int port = new Uri(server.Url).Port;
        Assert.DoesNotMatch("^HTTP/1.[01] 200", await Raw(port, "GET /api/runs HTTP/1.0\r\n\r\n"));
    }

    public static TheoryData<string> HeadPaths => new()
    {
        "/", "/dashboard.js", "/api/runs", "/api/file?run=s/ok&name=log.csv", "/api/file?run=s/none&name=log.csv",
        "/api/events?run=s/ok", "/api/watch", "/api/explorer/example", "/missing",
    };

    [Theory]
    [MemberData(nameof(HeadPaths))]
    public async Task Head_SendsHeadersOnly(string path)
    {
        using var outer = new TempDir();
        string root = Path.Combine(outer.Path, "runs");
        Run(root, "ok");
        using var server = DashboardServer.Start(root, "127.0.0.1", null);
        int port = new Uri(server.Url).Port;
        string reply = await Raw(port, $"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(5));
        Assert.StartsWith("HTTP/1.1 ", reply);
        int end = reply.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end > 0, reply);
        Assert.Equal("", reply[(end + 4)..]);
    }

    [Fact]
    public async Task ServedFiles_AreCappedAtTheirLengthWhenOpened()
    {
        using var outer = new TempDir();
        string root = Path.Combine(outer.Path, "runs");
        string run = Run(root, "ok");
        using var server = DashboardServer.Start(root, "127.0.0.1", null);
        int port = new Uri(server.Url).Port;
        string reply = await Raw(port, Get(port, "/api/file?run=s/ok&name=log.csv"));
        Assert.Contains("Content-Length: 17", reply);
        Assert.EndsWith("epoch,loss\n1,0.5\n", reply);
    }

    /// <summary>CPU seconds (user + system) a process has used, from /proc.</summary>
    private static double CpuSeconds(int pid)
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0; // utime and stime, in clock ticks (USER_HZ = 100)
    }

    /// <summary>
    /// A child `nabla dashboard` on a free port, answering (its first request warms it). The port is free when chosen,
    /// not necessarily when the child binds it (another process may take it meanwhile, as an MPI launcher's control
    /// port once did): a child that exits, or a port answered by someone else, is retried on another port.
    /// </summary>
    private static async Task<(Process Child, int Port)> StartDashboard(string root)
    {
        for (int attempt = 1; ; attempt++)
        {
            int port = FreePort();
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { typeof(Nabla.Cli.Program).Assembly.Location, "dashboard", root, "--port", port.ToString() }) psi.ArgumentList.Add(a);
            var child = Process.Start(psi)!;
            var end = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!child.HasExited && !Listening(port) && DateTime.UtcNow < end) Thread.Sleep(50);
            string reply = child.HasExited || !Listening(port) ? "" : await Raw(port, Get(port, "/api/runs"));
            if (!child.HasExited && reply.StartsWith("HTTP/1.1 200", StringComparison.Ordinal)) return (child, port);
            if (!child.HasExited) child.Kill();
            child.Dispose();
            if (attempt == 3) throw new InvalidOperationException($"nabla dashboard did not come up on a free port in {attempt} attempts.");
        }
    }

    [Fact]
    public async Task AClientLeavingMidStream_LeavesTheServerIdle_AndServingOthers()
    {
        using var outer = new TempDir();
        string root = Path.Combine(outer.Path, "runs");
        // A big events file with no end line (a run still "running"), and one linked to /dev/zero that once streamed forever.
        Run(root, "big", r =>
        {
            using var f = new StreamWriter(Path.Combine(r, "events.jsonl"));
            string line = "{\"type\":\"step\",\"epoch\":0.5,\"loss\":1.25,\"pad\":\"" + new string('x', 200) + "\"}";
            for (int i = 0; i < 200_000; i++) f.WriteLine(line); // ~48 MB
        });
        Run(root, "zero", r => Replace(Path.Combine(r, "events.jsonl"), f => File.CreateSymbolicLink(f, "/dev/zero")));
        var (child, port) = await StartDashboard(root);
        using var owned = child;
        try
        {
            foreach (var run in new[] { "s/big", "s/zero" })
            {
                using (var client = new TcpClient("127.0.0.1", port))
                {
                    var stream = client.GetStream();
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /api/events?run={run} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"));
                    var buffer = new byte[16384];
                    await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // the stream has started (or was refused)
                    client.Client.LingerState = new LingerOption(true, 0); // leave abruptly: a reset, as a closed tab
                }
            }
            Thread.Sleep(1500); // the server notices the closed connections
            double before = CpuSeconds(child.Id);
            Thread.Sleep(3000);
            double used = CpuSeconds(child.Id) - before;
            Assert.True(used < 0.3, $"the server used {used:F2} s of CPU in 3 s with no request open");
            string list = await Raw(port, Get(port, "/api/runs"), TimeSpan.FromSeconds(5));
            Assert.StartsWith("HTTP/1.1 200", list);
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }
}
