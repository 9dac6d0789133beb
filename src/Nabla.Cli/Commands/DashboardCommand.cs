using System.CommandLine;
using Nabla.Cli.Dashboard;

namespace Nabla.Cli.Commands;

/// <summary>
/// <c>nabla dashboard [DIR]</c>: serves the runs recorded under DIR (<c>--dashboard</c> runs of train, seed and
/// compare) and the backprop explorer, until Ctrl+C.
/// </summary>
internal static class DashboardCommand
{
    public static Command Create(TextWriter stdout)
    {
        var dir = new Argument<string>("DIR") { Description = $"A folder of runs, a session or one run (default: ./{DashboardOptions.DefaultRoot})", DefaultValueFactory = _ => DashboardOptions.DefaultRoot };
        var port = DashboardOptions.Port();
        var host = DashboardOptions.Host();
        var cmd = new Command("dashboard", "Reopen recorded runs and the backprop explorer in the browser (serves until Ctrl+C)") { dir, port, host };
        cmd.SetAction(r => Run(r.GetValue(dir)!, r.GetValue(host)!, r.GetValue(port), stdout));
        return cmd;
    }

    private static int Run(string dir, string host, int? port, TextWriter o)
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new UsageException("DIR: the folder name is empty.");
        if (!Directory.Exists(dir))
            throw new Data.DataFormatException(File.Exists(dir)
                ? $"{dir}: is a file; give the folder of runs (--runs of train, seed or compare; ./{DashboardOptions.DefaultRoot} by default)."
                : $"{dir}: no such folder. Record runs with --dashboard (they go to ./{DashboardOptions.DefaultRoot}), or give the folder they are in.");
        using var server = DashboardServer.Start(dir, host, port);
        int runs = new RunStore(dir).List().Count;
        o.WriteLine($"Dashboard: {server.Url}  ({runs} run{(runs == 1 ? "" : "s")} in {dir}{(runs == 0 ? "; the backprop explorer works without any" : "")}). Press Ctrl+C to stop.");
        StopSignal.Wait();
        return 0;
    }
}
