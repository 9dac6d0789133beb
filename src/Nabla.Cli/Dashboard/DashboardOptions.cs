using System.CommandLine;

namespace Nabla.Cli.Dashboard;

/// <summary>
/// The dashboard's flags, shared by <c>train</c>, <c>seed</c> and <c>compare</c>: <c>--dashboard</c>, <c>--port</c>,
/// <c>--host</c>, <c>--keep-serving</c>, <c>--runs</c>.
/// </summary>
internal sealed class DashboardOptions
{
    /// <summary>Where run folders go when <c>--runs</c> is not given (TensorBoard's convention).</summary>
    public const string DefaultRoot = "runs";

    private readonly Option<bool> _enabled = new("--dashboard") { Description = "Serve a live dashboard of the run on 127.0.0.1 (address printed) and record it under --runs" };
    private readonly Option<int?> _port = Port();
    private readonly Option<string> _host = Host();
    private readonly Option<bool> _keep = new("--keep-serving") { Description = "With --dashboard: keep serving after the run ends, until Ctrl+C" };
    private readonly Option<string> _root = Root();

    /// <summary>The options, to add to a command.</summary>
    public IEnumerable<Option> All => [_enabled, _port, _host, _keep, _root];

    /// <summary>--port: 1 to 65535.</summary>
    public static Option<int?> Port()
    {
        var port = new Option<int?>("--port") { Description = "The dashboard's port (default: a free one)" };
        port.Validators.Add(r =>
        {
            // A value that is not a number is the parser's error already.
            if (r.Tokens.Count > 0 && int.TryParse(r.Tokens[^1].Value, out int p) && p is < 1 or > 65535)
                r.AddError($"--port must be between 1 and 65535; got {p}.");
        });
        return port;
    }

    /// <summary>--host: an IP address or host name; 127.0.0.1 by default.</summary>
    public static Option<string> Host()
    {
        var host = new Option<string>("--host") { Description = "The address the dashboard listens on (default 127.0.0.1: this machine only; 0.0.0.0: every interface)", DefaultValueFactory = _ => "127.0.0.1" };
        host.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && r.Tokens[^1].Value is var h && h is not ("*" or "+") && Uri.CheckHostName(h.Trim('[', ']')) == UriHostNameType.Unknown)
                r.AddError($"--host must be an IP address or a host name; got '{h}'.");
        });
        return host;
    }

    /// <summary>--runs: the folder of run folders.</summary>
    public static Option<string> Root() => new("--runs") { Description = $"Where run folders are written and read (default: ./{DefaultRoot})", DefaultValueFactory = _ => DefaultRoot };

    /// <summary>The settings given, checked: the serving flags need --dashboard.</summary>
    /// <exception cref="UsageException">A serving flag without --dashboard, or an empty --runs.</exception>
    public DashboardSettings Read(ParseResult r)
    {
        bool enabled = r.GetValue(_enabled);
        if (!enabled)
            foreach (var o in new Option[] { _port, _host, _keep, _root })
                if (r.GetResult(o) is { Implicit: false }) throw new UsageException($"{o.Name} needs --dashboard.");
        string root = r.GetValue(_root)!;
        if (string.IsNullOrWhiteSpace(root)) throw new UsageException("--runs: the folder name is empty.");
        return new DashboardSettings(enabled, r.GetValue(_host)!, r.GetValue(_port), r.GetValue(_keep), root);
    }
}

/// <summary>What the dashboard flags asked for.</summary>
internal sealed record DashboardSettings(bool Enabled, string Host, int? Port, bool KeepServing, string Root);
