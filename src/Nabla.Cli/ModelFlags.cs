using System.CommandLine;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// The flags of <c>train</c> that make its <see cref="TrainConfig"/>: the model, the optimizer, the schedule, the loss's
/// options and the run's length; and, with <c>--resume</c>, the merge with the checkpoint's configuration.
/// </summary>
internal sealed class ModelFlags
{
    private readonly Option<string> _hidden = CommonOptions.Hidden();
    private readonly Option<string> _activation = CommonOptions.Activation();
    private readonly Option<string> _optimizer = new Option<string>("--optimizer") { Description = "sgd, adam, adamw, rmsprop or adagrad", DefaultValueFactory = _ => "adam" }
        .AcceptOnlyFromAmong("sgd", "adam", "adamw", "rmsprop", "adagrad");
    private readonly Option<float?> _lr = CommonOptions.Range("--lr", "Learning rate (default: PyTorch's for the optimizer)", 0, 1e6f, minExclusive: true);
    private readonly Option<float?> _momentum = CommonOptions.Range("--momentum", "Momentum for sgd and rmsprop", 0, 0.999999f);
    private readonly Option<float?> _weightDecay = CommonOptions.Range("--weight-decay", "L2 penalty (decoupled for adamw)", 0, 1e6f);
    private readonly Option<float?> _l1 = CommonOptions.Range("--l1", "L1 penalty λ: adds λ·sign(w) to each gradient", 0, 1e6f);
    private readonly Option<float?> _dropout = CommonOptions.Range("--dropout", "Dropout probability after each hidden activation", 0, 0.999f);
    private readonly Option<int> _epochs = CommonOptions.Positive(new Option<int>("--epochs") { Description = "Epochs (the maximum, with early stopping)", DefaultValueFactory = _ => 10 });
    private readonly Option<int> _batchSize = CommonOptions.Bounded(new Option<int>("--batch-size") { Description = "Samples per batch", DefaultValueFactory = _ => 32 }, CommonOptions.MaxBatchSize);
    private readonly Option<float?> _valSplit = CommonOptions.Range("--val-split", "Fraction of the training set held out for validation", 0, 0.9f);
    private readonly Option<int> _early = NonNegative(new Option<int>("--early-stopping") { Description = "Stop after N epochs without validation-loss improvement, restoring the best weights" });
    private readonly Option<ulong> _seed = CommonOptions.Seed();
    private readonly Option<string> _task = new Option<string>("--task") { Description = "classification (softmax + cross-entropy) or regression (linear outputs + mean squared error; CSV, targets = --label-column)", DefaultValueFactory = _ => "classification" }
        .AcceptOnlyFromAmong("classification", "regression");
    private readonly Option<string> _targetScale = new Option<string>("--target-scale") { Description = "Regression: standardize (train on targets in standard deviations; the model's outputs are turned back into the targets' units) or none", DefaultValueFactory = _ => "standardize" }
        .AcceptOnlyFromAmong("standardize", "none");
    private readonly Option<float?> _clip = CommonOptions.Range("--clip-grad-norm", "Clip the gradients to this global 2-norm before each step (off by default)", 0, 1e9f, minExclusive: true);
    private readonly Option<string> _classWeight = new Option<string>("--class-weight") { Description = "Classification: balanced (each class weighted n / (classes · n_class), for imbalanced data) or none", DefaultValueFactory = _ => "none" }
        .AcceptOnlyFromAmong("none", "balanced");
    private readonly Option<string> _schedule = new Option<string>("--lr-schedule") { Description = "none, cosine (annealed to 0 over --epochs) or plateau (÷10 when the validation loss, else the training loss, stops improving)", DefaultValueFactory = _ => "none" }
        .AcceptOnlyFromAmong("none", "cosine", "plateau");
    private readonly Option<int> _patience = NonNegative(new Option<int>("--lr-patience") { Description = "--lr-schedule plateau: epochs without improvement before the rate drops", DefaultValueFactory = _ => 10 });
    private readonly Option<float?> _tol = CommonOptions.Range("--tol", "Stop once the training loss improves by less than this for more than 10 epochs (scikit-learn's tol; default 1e-4 for tables, off otherwise; 0: off)", 0, 1e6f);

    /// <summary>Every option, to add to a command.</summary>
    public IEnumerable<Option> All =>
        [_hidden, _activation, _optimizer, _lr, _momentum, _weightDecay, _l1, _dropout, _epochs, _batchSize, _valSplit, _early, _seed, _task,
         _targetScale, _clip, _classWeight, _schedule, _patience, _tol];

    private static Option<int> NonNegative(Option<int> o)
    {
        o.Validators.Add(r => { if (r.Tokens.Count > 0 && r.GetValueOrDefault<int>() < 0) r.AddError($"{o.Name} must be ≥ 0."); });
        return o;
    }

    /// <summary>The options that set each TrainConfig property (for --resume's conflict check, and to name a setting's flag).</summary>
    private (Option Option, string Setting)[] Settings =>
    [
        (_hidden, nameof(TrainConfig.Hidden)), (_activation, nameof(TrainConfig.Activation)), (_optimizer, nameof(TrainConfig.Optimizer)),
        (_lr, nameof(TrainConfig.LearningRate)), (_momentum, nameof(TrainConfig.Momentum)), (_weightDecay, nameof(TrainConfig.WeightDecay)),
        (_l1, nameof(TrainConfig.L1)), (_dropout, nameof(TrainConfig.Dropout)), (_epochs, nameof(TrainConfig.Epochs)),
        (_batchSize, nameof(TrainConfig.BatchSize)), (_valSplit, nameof(TrainConfig.ValidationSplit)), (_early, nameof(TrainConfig.EarlyStopping)),
        (_seed, nameof(TrainConfig.Seed)), (_task, nameof(TrainConfig.Task)), (_targetScale, nameof(TrainConfig.StandardizeTargets)),
        (_clip, nameof(TrainConfig.ClipGradNorm)), (_classWeight, nameof(TrainConfig.ClassWeight)), (_schedule, nameof(TrainConfig.Schedule)),
        (_patience, nameof(TrainConfig.SchedulePatience)), (_tol, nameof(TrainConfig.ConvergenceTolerance)),
    ];

    /// <summary>Whether --task regression was given.</summary>
    public bool IsRegression(ParseResult r) => r.GetValue(_task) == "regression";

    /// <summary>
    /// The defaults for tables, scikit-learn's MLP's (ReLU, 100 hidden units, batches of 200, up to 200 epochs, stopping
    /// once the training loss stops improving), for every one of these settings the command line leaves out; the
    /// textbook's (sigmoid, 32, batches of 32, 10 epochs) stay those of the image sets. Null when every one was given.
    /// </summary>
    private string? TableDefaults(ParseResult r, ref TrainConfig c)
    {
        var used = new List<string>();
        bool Default(Option o, string text)
        {
            if (r.GetResult(o) is { Implicit: false }) return false;
            used.Add(text);
            return true;
        }
        if (Default(_activation, "relu")) c = c with { Activation = ActivationKind.Relu };
        if (Default(_hidden, "--hidden 100")) c = c with { Hidden = [100] };
        if (Default(_batchSize, "--batch-size 200")) c = c with { BatchSize = 200 };
        if (Default(_epochs, "up to 200 epochs")) c = c with { Epochs = 200 };
        if (Default(_tol, "--tol 1e-4")) c = c with { ConvergenceTolerance = 1e-4 };
        return used.Count == 0 ? null : string.Join(", ", used);
    }

    /// <summary>Whether <paramref name="setting"/> (a TrainConfig property) was given on the command line.</summary>
    public bool Given(ParseResult r, string setting) => Settings.Any(s => s.Setting == setting && r.GetResult(s.Option) is { Implicit: false });

    /// <summary>The configuration the flags give; with <paramref name="resume"/>, the checkpoint's (flags may only agree, or extend --epochs).</summary>
    /// <exception cref="UsageException">A bad combination, or a flag that contradicts the checkpoint.</exception>
    /// <param name="r">The parsed command line.</param>
    /// <param name="resume">--resume's checkpoint, if any.</param>
    /// <param name="table">Whether the data is a table (its defaults differ), and <paramref name="defaults"/> says which applied.</param>
    /// <param name="defaults">The table defaults used, for a line saying so; null when none.</param>
    public TrainConfig Config(ParseResult r, string? resume, bool table, out string? defaults)
    {
        var config = new TrainConfig
        {
            Hidden = CommonOptions.ParseWidths(r.GetValue(_hidden)!, "--hidden"),
            Activation = CommonOptions.ParseName<ActivationKind>(r.GetValue(_activation)!, "--activation"),
            Optimizer = CommonOptions.ParseName<OptimizerKind>(r.GetValue(_optimizer)!, "--optimizer"),
            LearningRate = r.GetValue(_lr),
            Momentum = r.GetValue(_momentum) ?? 0,
            WeightDecay = r.GetValue(_weightDecay),
            L1 = r.GetValue(_l1) ?? 0,
            Dropout = r.GetValue(_dropout) ?? 0,
            Epochs = r.GetValue(_epochs),
            BatchSize = r.GetValue(_batchSize),
            ValidationSplit = r.GetValue(_valSplit) ?? 0,
            EarlyStopping = r.GetValue(_early),
            Seed = r.GetValue(_seed),
            Task = CommonOptions.ParseName<TrainTask>(r.GetValue(_task)!, "--task"),
            StandardizeTargets = r.GetValue(_targetScale) == "standardize",
            ClipGradNorm = r.GetValue(_clip) ?? 0,
            ClassWeight = CommonOptions.ParseName<ClassWeighting>(r.GetValue(_classWeight)!, "--class-weight"),
            Schedule = r.GetValue(_schedule) == "none" ? LearningRateSchedule.None : CommonOptions.ParseName<LearningRateSchedule>(r.GetValue(_schedule)!, "--lr-schedule"),
            SchedulePatience = r.GetValue(_patience),
            ConvergenceTolerance = r.GetValue(_tol) ?? 0,
        };
        defaults = table && resume is null ? TableDefaults(r, ref config) : null;
        if (config.Check() is { } problem)
            throw new UsageException($"{problem.Message} ({string.Join(", ", problem.Settings.Select(CommonOptions.FlagOf))}).");
        if (config.Task == TrainTask.Classification && r.GetResult(_targetScale) is { Implicit: false })
            throw new UsageException("--target-scale: is for regression (--task regression).");
        return resume is null ? config : Resumed(r, config, resume);
    }

    private TrainConfig Resumed(ParseResult r, TrainConfig config, string resume)
    {
        var resumed = Training.Checkpoint.ReadState(resume);
        TrainConfig stored;
        try
        {
            stored = TrainConfig.FromJson(resumed.Config);
        }
        catch (FormatException e)
        {
            throw new Data.DataFormatException($"{resume}: {e.Message}.", e);
        }
        // The checkpoint's configuration is the run's; a flag given now must agree with it, except --epochs, which
        // may extend a finished run.
        var given = Settings.Where(s => r.GetResult(s.Option) is { Implicit: false }).Select(s => s.Setting).ToHashSet();
        var conflicts = stored.Differences(config).Where(given.Contains).Where(n => n != nameof(TrainConfig.Epochs)).ToList();
        if (conflicts.Count > 0)
            throw new UsageException($"--resume: {string.Join(", ", conflicts.Select(CommonOptions.FlagOf))} differ from the checkpoint's configuration; drop them (the checkpoint's is used) or start a new run.");
        return given.Contains(nameof(TrainConfig.Epochs)) ? stored with { Epochs = config.Epochs } : stored;
    }
}
