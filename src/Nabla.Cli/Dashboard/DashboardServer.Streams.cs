using System.Net;
using System.Text;

namespace Nabla.Cli.Dashboard;

/// <summary>The dashboard's two streams: a run's events as it writes them, and the list of runs.</summary>
internal sealed partial class DashboardServer
{
    /// <summary>
    /// A run's events.jsonl as server-sent events: each event carries the complete lines read in one pass (one
    /// <c>data:</c> field per line, at most <see cref="LinesPerEvent"/>), with the byte offset after them as its id (a
    /// reconnecting page resumes there). It follows the file every <see cref="TailInterval"/> until the run's "end"
    /// line, then closes. Batching keeps a fast run (hundreds of lines a second) to a few messages a second for the page.
    /// </summary>
    private async Task Events(HttpListenerRequest request, HttpListenerResponse response, bool head)
    {
        // Only a regular file inside the root (no link, FIFO or device: those would hang or never end).
        var file = _store.Find(request.QueryString["run"] ?? "") is { } run ? run.Open("events.jsonl") : null;
        if (file is null)
        {
            await Status(response, 404, "No such run.", head).ConfigureAwait(false);
            return;
        }
        await using var tail = new LineTail(file, MaxLine);
        if (head)
        {
            await StreamHeaders(response).ConfigureAwait(false);
            return;
        }
        // Where to start: the browser's own reconnection sends Last-Event-ID; a page resubscribing says from=.
        long from = long.TryParse(request.Headers["Last-Event-ID"] ?? request.QueryString["from"], out long id) && id >= 0 ? id : 0;
        StartStream(response);
        tail.Seek(Math.Min(from, file.Length));
        long sent = 0;
        var quiet = DateTime.UtcNow;
        while (true)
        {
            bool stopping = _stopping.IsCancellationRequested; // read once more after a stop: the run's last lines
            var lines = await tail.ReadAsync().ConfigureAwait(false);
            for (int first = 0; first < lines.Count; first += LinesPerEvent)
                await SendLines(response.OutputStream, lines.GetRange(first, Math.Min(LinesPerEvent, lines.Count - first)),
                    first + LinesPerEvent >= lines.Count ? tail.Offset : null).ConfigureAwait(false);
            if (lines.Count > 0)
            {
                await response.OutputStream.FlushAsync().ConfigureAwait(false);
                quiet = DateTime.UtcNow;
                sent += lines.Sum(l => (long)l.Length);
            }
            // A stream ends at the run's end, when the server stops, or after MaxServed bytes (a file that never
            // stops growing must not hold a connection and a reader forever; the page reconnects from its last id).
            if (stopping || sent > MaxServed || lines.Exists(l => l.AsSpan().IndexOf("\"type\":\"end\""u8) >= 0)) return;
            if (lines.Count == 0 && DateTime.UtcNow - quiet > KeepAlive)
            {
                await response.OutputStream.WriteAsync(": keep-alive\n\n"u8.ToArray()).ConfigureAwait(false); // a closed page shows here as a write error
                await response.OutputStream.FlushAsync().ConfigureAwait(false);
                quiet = DateTime.UtcNow;
            }
            try
            {
                await Task.Delay(TailInterval, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping: one more read sends what the run wrote last.
            }
        }
    }

    /// <summary>One event of several lines, one data field each; the last event of a read carries the offset as its id.</summary>
    private static async Task SendLines(Stream output, List<byte[]> lines, long? id)
    {
        using var message = new MemoryStream();
        foreach (var line in lines)
        {
            message.Write("data: "u8);
            message.Write(line);
            message.WriteByte((byte)'\n');
        }
        if (id is { } offset) message.Write(Encoding.ASCII.GetBytes($"id: {offset}\n"));
        message.WriteByte((byte)'\n');
        await output.WriteAsync(message.GetBuffer().AsMemory(0, (int)message.Length)).ConfigureAwait(false);
    }

    /// <summary>The list of runs as a server-sent event, again whenever it changes (a new run, a run's status).</summary>
    private async Task Watch(HttpListenerResponse response)
    {
        StartStream(response);
        string last = "";
        var quiet = DateTime.UtcNow;
        while (!_stopping.IsCancellationRequested)
        {
            string list = RunList().ToJsonString();
            if (list != last || DateTime.UtcNow - quiet > KeepAlive)
            {
                await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes($"event: runs\ndata: {list}\n\n")).ConfigureAwait(false);
                await response.OutputStream.FlushAsync().ConfigureAwait(false);
                (last, quiet) = (list, DateTime.UtcNow);
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        // The final list, with every run's last status.
        await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes($"event: runs\ndata: {RunList().ToJsonString()}\n\n")).ConfigureAwait(false);
    }

    private static void StartStream(HttpListenerResponse response)
    {
        response.ContentType = "text/event-stream; charset=utf-8";
        response.SendChunked = true;
    }

    /// <summary>A HEAD request for a stream: its type, and no body (not even an empty chunked one).</summary>
    private static Task StreamHeaders(HttpListenerResponse response)
    {
        response.ContentType = "text/event-stream; charset=utf-8";
        response.ContentLength64 = 0;
        return Task.CompletedTask;
    }
}
