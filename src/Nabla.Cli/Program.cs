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
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, null);

    /// <summary>Runs the tool with the given arguments, writers and standard input (null: the process's).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, Stream? stdin)
    {
        // Under an MPI launcher this process is one of a job: MPI first (and the same command line everywhere), then
        // the command, with rank 0 alone printing.
        MpiJob? job;
        try { job = MpiJob.Start(args); }
        catch (UsageException e)
        {
            if (Environment.GetEnvironmentVariable("PMI_RANK") is null or "0") stderr.WriteLine("nabla: error: " + e.Message);
            return 2;
        }
        using (job) return Run(args, stdout, stderr, stdin, job);
    }

    private static int Run(string[] args, TextWriter stdout, TextWriter stderr, Stream? stdin, MpiJob? job)
    {
        var realError = stderr;
        if (job is not null) (stdout, stderr) = (job.Output(stdout), job.Output(stderr));
        // A plain command named "nabla" rather than RootCommand, whose name is the executable's file name
        // ("Nabla.Cli" under `dotnet Nabla.Cli.dll`): usage lines name the command users type.
        var root = new Command("nabla", "Nabla: multilayer perceptrons for .NET, from the textbook's backprop to fast training.")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
            BackpropCommand.Create(stdout),
            SeedCommand.Create(stdout, stderr, job),
            TrainCommand.Create(stdout, stderr, job),
            EvalCommand.Create(stdout, stderr),
            SummaryCommand.Create(stdout),
            ExportCommand.Create(stdout),
            PredictCommand.Create(stdout, stderr, stdin ?? Console.OpenStandardInput()),
            CompareCommand.Create(stdout),
            DevicesCommand.Create(stdout),
            DashboardCommand.Create(stdout),
        };
        var parsed = root.Parse(args);
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        if (parsed.Errors.Count > 0 && !args.Contains("--help") && !args.Contains("-h"))
        {
            // One line: every parse error, each on one line, then where to look.
            var messages = parsed.Errors.Select(e => Flag(e) + string.Join(' ', e.Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(p => p.Trim())));
            stderr.WriteLine($"nabla: error: {string.Join("; ", messages)} (run '{CommandPath(parsed)} --help' for usage)");
            return 2;
        }
        try
        {
            return parsed.Invoke(config);
        }
        catch (Exception caught)
        {
            // The one error boundary: whatever a command throws, from a parallel loop or a background task too, ends
            // as one line and an exit code; NABLA_TRACE=1 adds the stack trace for a bug report.
            var e = Unwrap(caught);
            var (code, line) = Describe(e);
            stderr.WriteLine("nabla: error: " + line.ReplaceLineEndings(" "));
            if (Environment.GetEnvironmentVariable("NABLA_TRACE") == "1") stderr.WriteLine(caught);
            if (job is { World.Size: > 1 } && !SameOnEveryProcess(e))
            {
                // An error this process alone may have (a file it failed to write, a bug): the others would wait for it
                // in the next exchange, so the whole job ends now.
                if (!job.World.IsRoot) realError.WriteLine($"nabla: error (process {job.World.Rank} of {job.World.Size}): " + line.ReplaceLineEndings(" "));
                job.World.Abort(code);
            }
            return code;
        }
    }

    /// <summary>Errors every process of an MPI job meets alike (the same flags, the same files): rank 0 reports them, nobody aborts.</summary>
    private static bool SameOnEveryProcess(Exception e) => e is UsageException or Data.DataFormatException or Training.TrainingDivergedException;

    /// <summary>"--flag: " for an error about an option whose message does not name it.</summary>
    private static string Flag(System.CommandLine.Parsing.ParseError e)
    {
        var symbol = e.SymbolResult;
        while (symbol is not null and not System.CommandLine.Parsing.OptionResult and not System.CommandLine.Parsing.CommandResult) symbol = symbol.Parent;
        return symbol is System.CommandLine.Parsing.OptionResult o && !e.Message.Contains(o.Option.Name, StringComparison.Ordinal) ? o.Option.Name + ": " : "";
    }

    /// <summary>The error inside the wrappers of parallel loops, tasks and reflection.</summary>
    internal static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: > 0 } a: e = a.Flatten().InnerExceptions[0]; break;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }: e = inner; break;
                default: return e;
            }
        }
    }

    private static (int Code, string Line) Describe(Exception e) => e switch
    {
        UsageException => (2, e.Message),
        Data.DataFormatException or Training.TrainingDivergedException or IOException or UnauthorizedAccessException
            => (1, e.Message + Hint(e)),
        // Out of device memory, a lost device, a driver error: the device's own words.
        ILGPU.Runtime.AcceleratorException or ILGPU.Runtime.Cuda.CuBlasException
            => (1, $"cuda: {e.Message} Try --device cpu, or a smaller --batch-size."),
        InsufficientMemoryException => (1, e.Message),
        OutOfMemoryException => (1, "out of memory. Try a smaller --batch-size or model, or fewer --threads."),
        NotSupportedException => (1, e.Message),
        _ => (70, $"internal error ({e.GetType().Name}): {e.Message} This is a bug in Nabla; set NABLA_TRACE=1 for the stack trace and report it."),
    };

    /// <summary>The command-line way to act on a library error's advice (library messages name no flags).</summary>
    private static string Hint(Exception e) => e switch
    {
        Training.TrainingDivergedException => " (--lr sets the learning rate; --clip-grad-norm clips the gradients.)",
        Data.DataFormatException { Setting: Data.DataFormatException.DataDirectorySetting } => " (--data DIR gives the folder.)",
        Data.DataFormatException { Setting: Data.DataFormatException.DelimiterSetting } => " (--delimiter)",
        _ => "",
    };

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var c = parsed.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }
}
