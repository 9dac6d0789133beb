using System.CommandLine;
using System.Globalization;

namespace Nabla.Cli;

/// <summary>Options shared by several commands, and the parsing helpers that validate values.</summary>
internal static class CommonOptions
{
    public static Option<string> Dataset() => new Option<string>("--dataset")
    {
        Description = "fashion-mnist, mnist or csv",
        DefaultValueFactory = _ => "fashion-mnist",
    }.AcceptOnlyFromAmong("fashion-mnist", "mnist", "csv");

    /// <summary>--hidden: comma-separated positive widths, validated at parse time.</summary>
    public static Option<string> Hidden()
    {
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths, comma-separated", DefaultValueFactory = _ => "32" };
        hidden.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            try { ParseWidths(r.Tokens[^1].Value, "--hidden"); }
            catch (UsageException e) { r.AddError(e.Message); }
        });
        return hidden;
    }

    public static Option<string> Activation() => new Option<string>("--activation")
    {
        Description = "sigmoid, relu or tanh",
        DefaultValueFactory = _ => "sigmoid",
    }.AcceptOnlyFromAmong("sigmoid", "relu", "tanh");

    public static Option<string?> Data() => new("--data") { Description = "Folder with the dataset files (default: $NABLA_DATA, the cache, /usr/share/datasets, then download)" };

    public static Option<string> Device() => new Option<string>("--device")
    {
        Description = "Where to compute: auto (CUDA if present, else CPU), cpu, cuda",
        DefaultValueFactory = _ => "auto",
    }.AcceptOnlyFromAmong("auto", "cpu", "cuda");

    public static Option<int> Threads() => Positive(new Option<int>("--threads")
    {
        Description = "CPU threads for the kernels (results are the same for any count)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    });

    public static Option<string> GemmProvider() => new Option<string>("--gemm")
    {
        Description = "Matrix-multiply implementation: managed (Nabla's, default) or openblas (needs libopenblas0-pthread)",
        DefaultValueFactory = _ => "managed",
    }.AcceptOnlyFromAmong("managed", "openblas");

    public static Option<string?> Save() => new("--save") { Description = "Write the trained model here as safetensors (PyTorch names, float32)" };

    public static Option<bool> Json() => new("--json") { Description = "Print a JSON object as the last line" };

    public static Option<ulong> Seed(ulong value = 42) => new("--seed") { Description = "Seed for initialization, shuffling and dropout", DefaultValueFactory = _ => value };

    /// <summary>Adds a validator that rejects values below 1.</summary>
    public static Option<int> Positive(Option<int> o)
    {
        o.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && int.TryParse(r.Tokens[^1].Value, CultureInfo.InvariantCulture, out int v) && v < 1)
                r.AddError($"{o.Name} must be a positive integer; got {v}.");
        });
        return o;
    }

    /// <summary>A float option whose value must be in [min, max] (inclusive min unless <paramref name="minExclusive"/>).</summary>
    public static Option<float?> Range(string name, string description, float min, float max, bool minExclusive = false)
    {
        var o = new Option<float?>(name) { Description = description };
        o.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            string s = r.Tokens[^1].Value;
            if (!float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v)
                || (minExclusive ? v <= min : v < min) || v > max)
                r.AddError($"{name} must be a number in {(minExclusive ? "(" : "[")}{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]; got '{s}'.");
        });
        return o;
    }

    /// <summary>Parses "32,64" into widths, each a positive integer.</summary>
    public static int[] ParseWidths(string text, string optionName)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) || widths[i] < 1)
                throw new UsageException($"{optionName}: '{parts[i]}' is not a positive integer (expected e.g. 32 or 128,64).");
        }
        return widths;
    }

    /// <summary>Applies --threads and --gemm and resolves --device; prints "Using device: …" as the textbook does.</summary>
    public static void SetUp(int threads, string device, string gemm, TextWriter output, bool quiet = false)
    {
        Compute.WorkerPool.Default = new Compute.WorkerPool(threads);
        if (gemm == "openblas")
        {
            if (!Tensors.Kernels.OpenBlas.TryLoad(out string? error)) throw new IOException("--gemm openblas: " + error);
            Tensors.Kernels.OpenBlas.SetThreads(threads);
            Tensors.Kernels.Gemm.Provider = Tensors.Kernels.GemmProvider.OpenBlas;
            if (!quiet) output.WriteLine("GEMM: OpenBLAS (cblas_sgemm)");
        }
        if (device == "cuda")
            throw new UsageException("--device cuda: this build has no CUDA backend yet; use --device cpu (or auto).");
        if (!quiet) output.WriteLine("Using device: cpu");
    }

    public static string F(double v, int decimals) => v.ToString("F" + decimals, CultureInfo.InvariantCulture);
}
