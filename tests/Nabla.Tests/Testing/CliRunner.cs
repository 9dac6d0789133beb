using Nabla.Cli;

namespace Nabla.Tests.Testing;

/// <summary>Runs the nabla command in-process, through its one entry point, capturing what it prints.</summary>
public static class CliRunner
{
    /// <summary><c>nabla args…</c>: the exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
