using System.CommandLine;
using System.Globalization;

namespace Nabla.Cli;

/// <summary>Options shared by several commands, and the parsing helpers that validate values.</summary>
internal static class CommonOptions
{
    public static Option<string?> Dataset() => new Option<string?>("--dataset")
    {
        Description = "fashion-mnist (the default), mnist, csv (one CSV file, or a *train*.csv and a *test*.csv in --data), npy (x_train.npy, y_train.npy, x_test.npy, y_test.npy in --data) or folder (a sub-folder of images per class in --data); recognized from --data when not given",
    }.AcceptOnlyFromAmong("fashion-mnist", "mnist", "csv", "npy", "folder");

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

    /// <summary>
    /// --activation for commands that read a model: needed for a PyTorch state dict, which does not record its
    /// activations; one for every hidden layer, or one per hidden layer (<c>relu,tanh</c>).
    /// </summary>
    public static Option<string?> ModelActivation()
    {
        var o = new Option<string?>("--activation")
        {
            Description = "For PyTorch state dicts (which do not record it): the activation after each hidden layer, sigmoid, relu or tanh, or one per layer (relu,tanh)",
        };
        o.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            try { ParseActivations(r.Tokens[^1].Value); }
            catch (UsageException e) { r.AddError(e.Message); }
        });
        return o;
    }

    /// <summary>Parses "relu" or "relu,tanh" into activations, by name only.</summary>
    public static NN.ActivationKind[] ParseActivations(string text) =>
        [.. text.Split(',', StringSplitOptions.TrimEntries).Select(a => a.ToLowerInvariant() switch
        {
            "sigmoid" => NN.ActivationKind.Sigmoid,
            "relu" => NN.ActivationKind.Relu,
            "tanh" => NN.ActivationKind.Tanh,
            _ => throw new UsageException($"--activation: '{a}' is not an activation; use sigmoid, relu or tanh (comma-separated per hidden layer)."),
        })];

    /// <summary>Loads a model file; a state dict whose activations are unknown asks for --activation.</summary>
    public static IO.LoadedModel LoadModel(string path, string? activation)
    {
        try
        {
            return IO.ModelFile.Load(path, activation is null ? null : ParseActivations(activation));
        }
        catch (IO.UnknownActivationException e)
        {
            throw new UsageException($"{e.Message} Say which with --activation (e.g. --activation relu, or one per hidden layer: relu,tanh).");
        }
    }

    public static Option<string?> Data() => new("--data") { Description = "Folder with the dataset files (default: $NABLA_DATA, the cache, /usr/share/datasets, then download)" };

    /// <summary>--device, parsed once into a <see cref="DeviceChoice"/>.</summary>
    public static Option<DeviceChoice> Device() => new("--device")
    {
        Description = "Where to compute: auto (CUDA if present, else CPU), cpu, cuda or cuda:N",
        DefaultValueFactory = _ => DeviceChoice.Auto,
        CustomParser = r =>
        {
            string text = r.Tokens.Count == 0 ? "auto" : r.Tokens[^1].Value;
            try { return DeviceChoice.Parse(text); }
            catch (FormatException)
            {
                r.AddError($"--device: '{text}' is not a device; use auto, cpu, cuda or cuda:N.");
                return DeviceChoice.Auto;
            }
        },
    };

    /// <summary>The most --threads accepted: four per core this process may use (affinity and CPU quota count), at most 256.</summary>
    public static int MaxThreads => Math.Min(256, 4 * Math.Max(1, Environment.ProcessorCount));

    /// <summary>--threads, parsed once into a <see cref="ThreadChoice"/>.</summary>
    public static Option<ThreadChoice> Threads() => new("--threads")
    {
        Description = "CPU threads for the kernels: auto (the default: training times its steps with 1 up to the cores this process may use and keeps the fastest, re-checking as it goes) or a fixed count. Results are the same bits for any count",
        DefaultValueFactory = _ => ThreadChoice.Auto,
        CustomParser = r =>
        {
            string text = r.Tokens.Count == 0 ? "auto" : r.Tokens[^1].Value;
            try { return ThreadChoice.Parse(text, MaxThreads); }
            catch (FormatException e)
            {
                r.AddError(e.Message);
                return ThreadChoice.Auto;
            }
        },
    };

    /// <summary>The largest --batch-size accepted (a batch larger than the data is one batch of all of it).</summary>
    public const int MaxBatchSize = 1 << 20;

    public static Option<string> GemmProvider() => new Option<string>("--gemm")
    {
        Description = "Matrix-multiply implementation: managed (Nabla's, default) or openblas (needs libopenblas0-pthread)",
        DefaultValueFactory = _ => "managed",
    }.AcceptOnlyFromAmong("managed", "openblas");

    public static Option<string?> Save() => new("--save") { Description = "Write the trained model here as safetensors (PyTorch names, float32)" };

    /// <summary>A positive int option bounded above.</summary>
    public static Option<int> Bounded(Option<int> o, int max)
    {
        Positive(o);
        o.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && int.TryParse(r.Tokens[^1].Value, CultureInfo.InvariantCulture, out int v) && v > max)
                r.AddError($"{o.Name} must be at most {max:N0}; got {v:N0}.");
        });
        return o;
    }

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

    /// <summary>Parses "32,64" into widths, each a positive integer no wider than a layer can be.</summary>
    public static int[] ParseWidths(string text, string optionName)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length > 64) throw new UsageException($"{optionName}: {parts.Length} layers; at most 64.");
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) || widths[i] < 1)
                throw new UsageException($"{optionName}: '{parts[i]}' is not a positive integer (expected e.g. 32 or 128,64).");
            if (widths[i] > NN.LayerPlan.MaxFeatures)
                throw new UsageException($"{optionName}: {widths[i]} is wider than a layer can be ({NN.LayerPlan.MaxFeatures:N0}).");
        }
        return widths;
    }

    /// <summary>Parses one enumeration value by name only (a number such as "99" is refused).</summary>
    public static T ParseName<T>(string text, string optionName) where T : struct, Enum =>
        !string.IsNullOrWhiteSpace(text) && !char.IsAsciiDigit(text.Trim()[0]) && !text.Trim().StartsWith('-')
        && Enum.TryParse<T>(text.Trim(), ignoreCase: true, out var v) && Enum.IsDefined(v)
            ? v
            : throw new UsageException($"{optionName}: '{text}' is not one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}.");

    /// <summary>The flag that sets a <see cref="Training.TrainConfig"/> property.</summary>
    public static string FlagOf(string setting) => setting switch
    {
        nameof(Training.TrainConfig.Hidden) => "--hidden",
        nameof(Training.TrainConfig.Activation) => "--activation",
        nameof(Training.TrainConfig.Optimizer) => "--optimizer",
        nameof(Training.TrainConfig.LearningRate) => "--lr",
        nameof(Training.TrainConfig.Momentum) => "--momentum",
        nameof(Training.TrainConfig.WeightDecay) => "--weight-decay",
        nameof(Training.TrainConfig.L1) => "--l1",
        nameof(Training.TrainConfig.Dropout) => "--dropout",
        nameof(Training.TrainConfig.Epochs) => "--epochs",
        nameof(Training.TrainConfig.BatchSize) => "--batch-size",
        nameof(Training.TrainConfig.ValidationSplit) => "--val-split",
        nameof(Training.TrainConfig.EarlyStopping) => "--early-stopping",
        nameof(Training.TrainConfig.Seed) => "--seed",
        nameof(Training.TrainConfig.Task) => "--task",
        nameof(Training.TrainConfig.StandardizeTargets) => "--target-scale",
        nameof(Training.TrainConfig.ClipGradNorm) => "--clip-grad-norm",
        nameof(Training.TrainConfig.ClassWeight) => "--class-weight",
        nameof(Training.TrainConfig.Schedule) => "--lr-schedule",
        nameof(Training.TrainConfig.SchedulePatience) => "--lr-patience",
        nameof(Training.TrainConfig.ConvergenceTolerance) => "--tol",
        _ => setting,
    };

    public static string F(double v, int decimals) => v.ToString("F" + decimals, CultureInfo.InvariantCulture);
}
