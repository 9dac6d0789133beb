using System.CommandLine;
using Nabla.Cli.Commands;

namespace Nabla.Cli;

/// <summary>
/// The <c>nabla</c> tool. Parses the command line once, at the edge, into typed settings; user errors
/// (bad values, missing or corrupt data, a diverging run) become one line on stderr and a non-zero exit code —
/// 2 for usage errors, 1 for the rest — never a stack trace.
/// </summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the tool with the given arguments and writers (tests call this).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Nabla: multilayer perceptrons for .NET, from the textbook's backprop to fast training.")
        {
            BackpropCommand.Create(stdout),
            SeedCommand.Create(stdout, stderr),
            TrainCommand.Create(stdout, stderr),
            EvalCommand.Create(stdout),
            SummaryCommand.Create(stdout),
            ExportCommand.Create(stdout),
            PredictCommand.Create(stdout),
            CompareCommand.Create(stdout),
            DevicesCommand.Create(stdout),
        };
        var parsed = root.Parse(args);
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        if (parsed.Errors.Count > 0 && !args.Contains("--help") && !args.Contains("-h"))
        {
            foreach (var e in parsed.Errors) stderr.WriteLine($"nabla: error: {e.Message}");
            stderr.WriteLine($"Run '{CommandPath(parsed)} --help' for usage.");
            return 2;
        }
        try
        {
            return parsed.Invoke(config);
        }
        catch (Exception e) when (UserError(e) is { } code)
        {
            stderr.WriteLine($"nabla: error: {e.Message}{Hint(e)}");
            return code;
        }
        catch (Exception e) when (e is ILGPU.Runtime.AcceleratorException or ILGPU.Runtime.Cuda.CuBlasException)
        {
            // Out of device memory, a lost device, a driver error: the device's own words, one line.
            stderr.WriteLine($"nabla: error: cuda: {e.Message.ReplaceLineEndings(" ")} Try --device cpu, or a smaller --batch-size.");
            return 1;
        }
    }

    private static int? UserError(Exception e) => e switch
    {
        UsageException => 2,
        Data.DataFormatException or Training.TrainingDivergedException or IOException or UnauthorizedAccessException => 1,
        _ => null,
    };

    /// <summary>The command-line way to act on a library error's advice (library messages name no flags).</summary>
    private static string Hint(Exception e) => e switch
    {
        Training.TrainingDivergedException => " (--lr sets the learning rate.)",
        Data.DataFormatException { Setting: Data.DataFormatException.DataDirectorySetting } => " (--data DIR gives the folder.)",
        _ => "",
    };

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var c = parsed.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, c.Command is RootCommand ? "nabla" : c.Command.Name);
        return string.Join(' ', names);
    }
}
