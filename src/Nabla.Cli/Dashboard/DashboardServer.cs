using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Nabla.Cli.Dashboard;

/// <summary>
/// The dashboard's web server: the page (embedded in this assembly: it works offline), the runs under one folder,
/// each run's events as a server-sent-event stream that follows its file while the run writes it, and the backprop
/// explorer's computation.
/// </summary>
/// <remarks>
/// Built on <see cref="HttpListener"/> (in the base class library) rather than ASP.NET Core: it needs no second
/// shared framework where the tool is installed, adds nothing to start-up when the dashboard is off, and a local page
/// for one user needs none of Kestrel's throughput. It binds to 127.0.0.1 (and answers to "localhost") unless told
/// another host; the listener refuses requests naming any other host, which also stops DNS-rebinding pages.
/// </remarks>
internal sealed partial class DashboardServer : IDisposable
{
    private static readonly TimeSpan TailInterval = TimeSpan.FromMilliseconds(1000);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private const int MaxBody = 64 * 1024;
    private const int LinesPerEvent = 256;

    /// <summary>The longest events.jsonl line served (an epoch's line with its pictures is well under 1 MiB).</summary>
    internal const int MaxLine = 4 << 20;

    private readonly HttpListener _listener;
    private readonly RunStore _store;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _requests = [];
    private readonly Task _accepting;
    private readonly HostCheck _hosts;

    /// <summary>The most one response sends of a run file, and one event stream of its events (a long run's events.jsonl is tens of MB).</summary>
    internal const long MaxServed = 1L << 30;

    private DashboardServer(HttpListener listener, RunStore store, string url, HostCheck hosts)
    {
        _listener = listener;
        _store = store;
        Url = url;
        _hosts = hosts;
        _accepting = Task.Run(AcceptLoop);
    }

    /// <summary>The page's address.</summary>
    public string Url { get; }

    /// <summary>The folder whose runs it serves.</summary>
    public string Root => _store.Root;

    /// <summary>Starts serving <paramref name="root"/> on <paramref name="host"/>:<paramref name="port"/> (null: a free port).</summary>
    /// <exception cref="IOException">The port is taken or may not be used; the message says which and what to do.</exception>
    public static DashboardServer Start(string root, string host, int? port)
    {
        var store = new RunStore(root);
        // The server's requests run on the thread pool. Training may hold the pool's few threads (a host that trains on
        // a pool thread and blocks another, as a test or a web app does); a few more guaranteed threads keep the page
        // answered at once instead of after the pool's slow thread injection.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 8), Math.Max(io, 8));
        if (port is { } fixedPort) return Bind(store, host, fixedPort);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return Bind(store, host, FreePort());
            }
            catch (IOException) when (attempt < 10)
            {
                // Another program took the port between the probe and the bind: try another.
            }
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static DashboardServer Bind(RunStore store, string host, int port)
    {
        var listener = new HttpListener();
        bool any = host is "0.0.0.0" or "::" or "*" or "+";
        string shown = host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
        if (any) listener.Prefixes.Add($"http://+:{port}/");
        else listener.Prefixes.Add($"http://{shown}:{port}/");
        if (host == "127.0.0.1") listener.Prefixes.Add($"http://localhost:{port}/");
        try
        {
            listener.Start();
        }
        catch (HttpListenerException e)
        {
            listener.Close();
            string why = e.ErrorCode is 98 or 10048 || e.Message.Contains("in use", StringComparison.OrdinalIgnoreCase)
                ? "is in use by another program" : $"cannot be used ({e.Message})";
            throw new IOException($"dashboard: port {port} on {host} {why}. Choose another with --port, or leave --port out to take a free one.", e);
        }
        return new DashboardServer(listener, store, $"http://{(any ? "127.0.0.1" : shown)}:{port}/", new HostCheck(any ? null : shown, port));
    }

    private async Task AcceptLoop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested || !_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                continue; // one bad connection does not end the server
            }
            var task = Task.Run(() => Handle(context));
            lock (_requests)
            {
                _requests.RemoveAll(t => t.IsCompleted);
                _requests.Add(task);
            }
        }
    }

    private async Task Handle(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            response.Headers["X-Content-Type-Options"] = "nosniff";
            response.Headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'";
            response.Headers["Cache-Control"] = "no-store";
            // The listener matches prefixes loosely (a Host with userinfo, "127.0.0.1:P@other", got through): the
            // header must name exactly the host and port served.
            if (!_hosts.Allows(context.Request.Headers["Host"]))
            {
                await Status(response, 400, "Bad Host header: address this server by the host and port it serves.", head: false).ConfigureAwait(false);
                return;
            }
            await Route(context.Request, response).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The page went away mid-response: nothing to tell anyone.
        }
        catch (Exception e)
        {
            // A fault in one request must not end the run it serves: the page gets the error, training goes on.
            try
            {
                await Status(response, 500, $"internal error ({e.GetType().Name}): {e.Message}", head: false).ConfigureAwait(false);
            }
            catch (Exception ignored) when (ignored is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // the response had already started
            }
        }
        finally
        {
            try { response.Close(); } catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { }
        }
    }

    private Task Route(HttpListenerRequest request, HttpListenerResponse response)
    {
        string path = request.Url?.AbsolutePath ?? "/";
        string method = request.HttpMethod;
        if (method == "POST" && path == "/api/explorer") return ExplorerPost(request, response);
        if (method is not ("GET" or "HEAD")) return Status(response, 405, "Only GET, and POST to /api/explorer.", head: false);
        bool head = method == "HEAD"; // the headers GET would send, and no body
        return path switch
        {
            "/" or "/index.html" or "/explorer" => Asset(response, "index.html", "text/html; charset=utf-8", head),
            "/dashboard.js" => Asset(response, "dashboard.js", "text/javascript; charset=utf-8", head),
            "/dashboard.css" => Asset(response, "dashboard.css", "text/css; charset=utf-8", head),
            "/api/runs" => Json(response, RunList(), head),
            "/api/watch" => head ? StreamHeaders(response) : Watch(response),
            "/api/events" => Events(request, response, head),
            "/api/file" => RunFile(request, response, head),
            "/api/explorer/example" => Json(response, Explorer.Compute(Explorer.WorkedExample), head),
            _ => Status(response, 404, "Not found.", head),
        };
    }

    private JsonArray RunList() => [.. _store.List().Select(r =>
    {
        var meta = r.Metadata();
        meta["id"] = r.Id;
        return (JsonNode)meta;
    })];

    private static async Task Asset(HttpListenerResponse response, string name, string type, bool head)
    {
        await using var stream = typeof(DashboardServer).Assembly.GetManifestResourceStream("Nabla.Cli.Dashboard.Assets." + name)
            ?? throw new InvalidOperationException($"The dashboard asset {name} is missing from the build.");
        response.ContentType = type;
        response.ContentLength64 = stream.Length;
        if (!head) await stream.CopyToAsync(response.OutputStream).ConfigureAwait(false);
    }

    private static async Task Json(HttpListenerResponse response, JsonNode body, bool head, int status = 200)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength64 = bytes.Length;
        if (!head) await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
    }

    private static Task Status(HttpListenerResponse response, int status, string message, bool head) =>
        Json(response, new JsonObject { ["error"] = message }, head, status);

    /// <summary>
    /// A run's file, only one of <see cref="RunStore.ServedFiles"/> of a run the store found, only if it is a regular
    /// file inside the root (<see cref="RunEntry.Open"/>), and at most <see cref="MaxServed"/> bytes: the length it had
    /// when opened, however it grows meanwhile.
    /// </summary>
    private async Task RunFile(HttpListenerRequest request, HttpListenerResponse response, bool head)
    {
        string name = request.QueryString["name"] ?? "";
        await using var stream = _store.Find(request.QueryString["run"] ?? "") is { } run && RunStore.ServedFiles.Contains(name) ? run.Open(name) : null;
        if (stream is null)
        {
            await Status(response, 404, "No such run or file.", head).ConfigureAwait(false);
            return;
        }
        long length = stream.Length;
        if (length > MaxServed)
        {
            await Status(response, 413, $"{name} is larger than {MaxServed >> 20} MiB; it is not served.", head).ConfigureAwait(false);
            return;
        }
        response.ContentType = name.EndsWith(".csv", StringComparison.Ordinal) ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";
        response.ContentLength64 = length;
        if (head) return;
        var buffer = new byte[64 * 1024];
        for (long left = length; left > 0;)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left))).ConfigureAwait(false);
            if (read == 0) throw new IOException($"{name} shrank while it was sent"); // the response cannot be completed: drop it
            await response.OutputStream.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
            left -= read;
        }
    }

    private static async Task ExplorerPost(HttpListenerRequest request, HttpListenerResponse response)
    {
        if (request.ContentLength64 > MaxBody)
        {
            await Status(response, 413, $"The body is larger than {MaxBody} bytes.", head: false).ConfigureAwait(false);
            return;
        }
        var buffer = new byte[MaxBody + 1];
        int length = 0, read;
        while (length <= MaxBody && (read = await request.InputStream.ReadAsync(buffer.AsMemory(length)).ConfigureAwait(false)) > 0) length += read;
        if (length > MaxBody)
        {
            await Status(response, 413, $"The body is larger than {MaxBody} bytes.", head: false).ConfigureAwait(false);
            return;
        }
        JsonObject result;
        try
        {
            result = Explorer.Compute(Explorer.Parse(JsonNode.Parse(buffer.AsSpan(0, length))));
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            await Status(response, 400, e.Message, head: false).ConfigureAwait(false);
            return;
        }
        await Json(response, result, head: false).ConfigureAwait(false);
    }

    /// <summary>Stops: open event streams send what their runs wrote last (up to 2 s), then the listener closes.</summary>
    public void Dispose()
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        Task[] open;
        lock (_requests) open = [.. _requests];
        try
        {
            Task.WaitAll(open, TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // Handle catches what a request throws; nothing here is worth more than stopping.
        }
        try
        {
            _listener.Stop();
            _listener.Close();
            _accepting.Wait(TimeSpan.FromSeconds(2));
        }
        catch (Exception)
        {
            // Closing races with requests still in flight inside HttpListener; whatever it throws then, the run it
            // served has finished and must not fail because its page was being answered.
        }
    }
}
