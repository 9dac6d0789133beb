using Nabla.Data;
using Nabla.NN;

namespace Nabla.Cli.Dashboard;

/// <summary>
/// One command's dashboard: a session folder under the runs folder (<c>yyyyMMdd-HHmmss-command</c>), a server over
/// the runs folder started before any data is read (a taken port costs nothing), and a recorder per run. Disposing
/// ends unfinished runs as "stopped" and stops the server; <see cref="Complete"/> keeps serving with --keep-serving.
/// </summary>
internal sealed class DashboardSession : IDisposable
{
    private readonly DashboardServer _server;
    private readonly List<RunRecorder> _recorders = [];
    private readonly bool _keepServing;
    private readonly TextWriter _output;

    private DashboardSession(DashboardServer server, string folder, bool keepServing, TextWriter output)
    {
        _server = server;
        Folder = folder;
        _keepServing = keepServing;
        _output = output;
    }

    /// <summary>Starts the server and the session folder, and prints the address; null when --dashboard is off.</summary>
    /// <exception cref="IOException">The port is taken, or the runs folder cannot be written.</exception>
    public static DashboardSession? Start(DashboardSettings settings, string command, TextWriter output)
    {
        if (!settings.Enabled) return null;
        string root = OutputPaths.Folder(settings.Root, "--runs")!;
        Directory.CreateDirectory(root);
        var server = DashboardServer.Start(root, settings.Host, settings.Port);
        try
        {
            string folder = RunStore.NewSession(root, command);
            output.WriteLine($"Dashboard: {server.Url}  (runs in {Path.GetRelativePath(Environment.CurrentDirectory, folder)})");
            if (settings.Host != "127.0.0.1")
                output.WriteLine($"The dashboard listens on {settings.Host}: anyone who can reach this machine there can see these runs.");
            return new DashboardSession(server, folder, settings.KeepServing, output);
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>The session's folder under the runs folder.</summary>
    public string Folder { get; }

    /// <summary>The page's address.</summary>
    public string Url => _server.Url;

    /// <summary>Starts recording a run named <paramref name="name"/> (null: the session folder is the run).</summary>
    public RunRecorder Record(string? name, RunInfo info, Module model, IDataset? test)
    {
        var recorder = new RunRecorder(name is null ? Folder : Path.Combine(Folder, name), info, model, test);
        _recorders.Add(recorder);
        return recorder;
    }

    /// <summary>The command succeeded: with --keep-serving, serve until Ctrl+C.</summary>
    public void Complete()
    {
        foreach (var r in _recorders) r.Dispose();
        if (!_keepServing) return;
        _output.WriteLine($"The run has ended; the dashboard stays at {Url}. Press Ctrl+C to stop.");
        StopSignal.Wait();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var r in _recorders) r.Dispose();
        _server.Dispose();
    }
}

/// <summary>Ctrl+C for the commands that serve until stopped (<c>dashboard</c>, <c>--keep-serving</c>); tests call <see cref="Request"/>.</summary>
internal static class StopSignal
{
    private static readonly SemaphoreSlim Stop = new(0);

    /// <summary>Blocks until Ctrl+C (or <see cref="Request"/>).</summary>
    public static void Wait()
    {
        void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true; // stop serving, then exit normally
            Stop.Release();
        }
        Console.CancelKeyPress += OnCancel;
        try
        {
            Stop.Wait();
        }
        finally
        {
            Console.CancelKeyPress -= OnCancel;
        }
    }

    /// <summary>Ends one <see cref="Wait"/>.</summary>
    public static void Request() => Stop.Release();
}
