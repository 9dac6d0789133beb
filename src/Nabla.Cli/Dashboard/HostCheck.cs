using System.Text.RegularExpressions;

namespace Nabla.Cli.Dashboard;

/// <summary>
/// Which Host headers the dashboard answers: exactly the host and port it serves ("127.0.0.1:8080", and
/// "localhost:8080" beside 127.0.0.1), compared without case. Serving every interface (host null), any plain host name
/// or address with the served port. Never userinfo ("127.0.0.1:8080@other"), a path, or another port: a page that
/// reaches the port under another name (DNS rebinding) is refused.
/// </summary>
/// <param name="host">The host served, as written in its URL ("[::1]" for IPv6); null when serving every interface.</param>
/// <param name="port">The port served.</param>
internal sealed partial class HostCheck(string? host, int port)
{
    /// <summary>Whether <paramref name="header"/> (the request's Host) names this server.</summary>
    public bool Allows(string? header)
    {
        if (string.IsNullOrEmpty(header)) return false;
        if (host is null) return Plain().Match(header) is { Success: true } m && m.Groups["port"].Value == Port(port);
        string[] allowed = host == "127.0.0.1" ? [$"127.0.0.1:{port}", $"localhost:{port}"] : [$"{host}:{port}"];
        return allowed.Any(a => string.Equals(a, header, StringComparison.OrdinalIgnoreCase));
    }

    private static string Port(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A host name, an IPv4 address or a bracketed IPv6 address, then ':' and the port; nothing else.</summary>
    [GeneratedRegex(@"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\]):(?<port>[0-9]{1,5})$")]
    private static partial Regex Plain();
}
