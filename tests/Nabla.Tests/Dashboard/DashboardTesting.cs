using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Nabla.Cli;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Dashboard;

/// <summary>Helpers shared by the dashboard's tests: runs made by the CLI on a tiny dataset, ports, HTTP.</summary>
internal static class DashboardTesting
{
    public static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    /// <summary>Trains on a 4×4-pixel dataset with --dashboard, recording under <paramref name="root"/>; returns the session folder.</summary>
    public static string RecordTinyRun(TempDir data, string root, int epochs = 2, params string[] extra)
    {
        if (!File.Exists(data.File("train-images-idx3-ubyte.gz"))) data.WriteDataset(train: 64, test: 24);
        var (code, o, e) = Run(["train", "--data", data.Path, "--epochs", epochs.ToString(), "--hidden", "8", "--batch-size", "4",
            "--dashboard", "--runs", root, .. extra]);
        Assert.True(code == 0, $"exit {code}: {e}\n{o}");
        return Directory.GetDirectories(root).OrderBy(d => d).Last();
    }

    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>Waits until something accepts connections on the port (a server starting in another thread).</summary>
    public static void WaitForPort(int port, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Listening(port)) return;
            if (DateTime.UtcNow > end) throw new TimeoutException($"Nothing listens on port {port}.");
            Thread.Sleep(50);
        }
    }

    public static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            // Connecting again and again to a free port in the ephemeral range can connect the socket to itself
            // (TCP simultaneous open): that is not a server.
            return !client.Client.LocalEndPoint!.Equals(client.Client.RemoteEndPoint);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    /// <summary>The data lines of a server-sent-event stream, until the server closes it.</summary>
    public static async Task<List<(string? Id, string Data)>> ReadEvents(string url, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType!.ToString());
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        // An event is its fields up to a blank line; each data line is one JSON line of the file, under the event's id.
        var events = new List<(string?, string)>();
        var data = new List<string>();
        string? id = null, line;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Add(line[6..]);
            else if (line.Length == 0)
            {
                events.AddRange(data.Select(d => (id, d)));
                data.Clear();
            }
        }
        return events;
    }

    public static JsonObject[] EventLines(string runFolder) =>
        [.. File.ReadAllLines(Path.Combine(runFolder, "events.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!)];
}
