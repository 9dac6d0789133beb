using System.Text.Json;
using System.Text.Json.Serialization;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Training;

/// <summary>What a run learns to predict.</summary>
public enum TrainTask
{
    /// <summary>A class per sample.</summary>
    Classification,
    /// <summary>One or more numbers per sample.</summary>
    Regression,
}

/// <summary>How classes are weighted in the loss.</summary>
public enum ClassWeighting
{
    /// <summary>Every sample counts the same.</summary>
    None,
    /// <summary>Each class weighs <c>n / (C · n_c)</c> (scikit-learn's "balanced"): rare classes count as much as common ones.</summary>
    Balanced,
}

/// <summary>How the learning rate changes over the epochs.</summary>
public enum LearningRateSchedule
{
    /// <summary>Constant.</summary>
    None,
    /// <summary>Cosine annealing to 0 over the run's epochs (CosineAnnealingLR, T_max = epochs).</summary>
    Cosine,
    /// <summary>Divided by 10 when the monitored loss (validation, else training) stops improving (ReduceLROnPlateau).</summary>
    Plateau,
}

/// <summary>
/// Everything that defines a training run, typed and validated once; defaults are the textbook's model and
/// batch size with Adam for 10 epochs.
/// </summary>
public sealed record TrainConfig
{
    /// <summary>Classification (softmax cross-entropy over classes) or regression (mean squared error on numeric targets).</summary>
    public TrainTask Task { get; init; } = TrainTask.Classification;

    /// <summary>Hidden layer widths.</summary>
    public int[] Hidden { get; init; } = [32];

    /// <summary>Hidden activation.</summary>
    public ActivationKind Activation { get; init; } = ActivationKind.Sigmoid;

    /// <summary>Optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Learning rate; null for the optimizer's PyTorch default.</summary>
    public float? LearningRate { get; init; }

    /// <summary>Momentum (SGD, RMSprop).</summary>
    public float Momentum { get; init; }

    /// <summary>L2 weight decay; null for the optimizer's default.</summary>
    public float? WeightDecay { get; init; }

    /// <summary>L1 penalty.</summary>
    public float L1 { get; init; }

    /// <summary>Dropout probability after each hidden activation (0: none).</summary>
    public float Dropout { get; init; }

    /// <summary>Epochs (an upper bound with early stopping).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Fraction of the training set held out for validation.</summary>
    public float ValidationSplit { get; init; }

    /// <summary>Early-stopping patience in epochs (0: off).</summary>
    public int EarlyStopping { get; init; }

    /// <summary>Seed of every random choice.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>
    /// Regression: train on standardized targets (each target's mean and standard deviation from the training data),
    /// the model ending in a <see cref="NN.Rescaling"/> that turns its outputs back into the targets' units, so that
    /// targets of any scale train with the default learning rate. False trains on the raw targets.
    /// </summary>
    public bool StandardizeTargets { get; init; } = true;

    /// <summary>If positive, gradients are clipped to this global 2-norm before each step (clip_grad_norm_).</summary>
    public float ClipGradNorm { get; init; }

    /// <summary>Classification: how classes are weighted in the loss.</summary>
    public ClassWeighting ClassWeight { get; init; } = ClassWeighting.None;

    /// <summary>The learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.None;

    /// <summary>With <see cref="LearningRateSchedule.Plateau"/>: epochs without improvement before the rate drops (PyTorch's default, 10).</summary>
    public int SchedulePatience { get; init; } = 10;

    /// <summary>
    /// If positive, the run stops once the training loss has improved by less than this for more than 10 epochs in a
    /// row (scikit-learn's MLP <c>tol</c> and <c>n_iter_no_change</c>; <see cref="ConvergenceStopping"/>). 0: off.
    /// </summary>
    public double ConvergenceTolerance { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new() { Converters = { new JsonStringEnumConverter(allowIntegerValues: false) } };

    /// <summary>As JSON (what checkpoints record): enumerations by name.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Parses <see cref="ToJson"/>'s output and validates it like the command line's values.</summary>
    /// <exception cref="FormatException">Malformed, an enumeration given by number or unknown name, or an invalid value.</exception>
    public static TrainConfig FromJson(string json)
    {
        TrainConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<TrainConfig>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new FormatException($"bad training configuration: {e.Message}", e);
        }
        if (config is null) throw new FormatException("no training configuration");
        if (config.Check() is { } problem) throw new FormatException($"training configuration: {problem.Message} ({string.Join(", ", problem.Settings)})");
        return config;
    }

    /// <summary>The settings (property names) whose values differ between this configuration and <paramref name="other"/>.</summary>
    public IReadOnlyList<string> Differences(TrainConfig other)
    {
        var names = new List<string>();
        if (Task != other.Task) names.Add(nameof(Task));
        if (!Hidden.SequenceEqual(other.Hidden)) names.Add(nameof(Hidden));
        if (Activation != other.Activation) names.Add(nameof(Activation));
        if (Optimizer != other.Optimizer) names.Add(nameof(Optimizer));
        if (LearningRate != other.LearningRate) names.Add(nameof(LearningRate));
        if (Momentum != other.Momentum) names.Add(nameof(Momentum));
        if (WeightDecay != other.WeightDecay) names.Add(nameof(WeightDecay));
        if (L1 != other.L1) names.Add(nameof(L1));
        if (Dropout != other.Dropout) names.Add(nameof(Dropout));
        if (Epochs != other.Epochs) names.Add(nameof(Epochs));
        if (BatchSize != other.BatchSize) names.Add(nameof(BatchSize));
        if (ValidationSplit != other.ValidationSplit) names.Add(nameof(ValidationSplit));
        if (EarlyStopping != other.EarlyStopping) names.Add(nameof(EarlyStopping));
        if (Seed != other.Seed) names.Add(nameof(Seed));
        if (StandardizeTargets != other.StandardizeTargets) names.Add(nameof(StandardizeTargets));
        if (ClipGradNorm != other.ClipGradNorm) names.Add(nameof(ClipGradNorm));
        if (ClassWeight != other.ClassWeight) names.Add(nameof(ClassWeight));
        if (Schedule != other.Schedule) names.Add(nameof(Schedule));
        if (SchedulePatience != other.SchedulePatience) names.Add(nameof(SchedulePatience));
        if (ConvergenceTolerance != other.ConvergenceTolerance) names.Add(nameof(ConvergenceTolerance));
        return names;
    }

    /// <summary>Checks the combination; returns a message for the first problem, or null.</summary>
    public string? Validate() => Check()?.Message;

    /// <summary>
    /// Checks the combination: the first problem's message and the names of the settings (properties of this record)
    /// it concerns, so that a front end can name its own spelling of them; null when the configuration is valid.
    /// </summary>
    public (string Message, string[] Settings)? Check()
    {
        if (Hidden.Length == 0 || Hidden.Any(h => h < 1)) return ("hidden widths must be positive integers", [nameof(Hidden)]);
        if (Epochs < 1) return ("epochs must be ≥ 1", [nameof(Epochs)]);
        if (BatchSize < 1) return ("batch size must be ≥ 1", [nameof(BatchSize)]);
        if (LearningRate is float lr && !(lr > 0)) return ("learning rate must be positive", [nameof(LearningRate)]);
        if (!(ValidationSplit >= 0 && ValidationSplit < 1)) return ("validation split must be in [0, 1)", [nameof(ValidationSplit)]);
        if (EarlyStopping > 0 && ValidationSplit == 0) return ("early stopping needs a validation split", [nameof(EarlyStopping), nameof(ValidationSplit)]);
        if (!(Dropout >= 0 && Dropout < 1)) return ("dropout must be in [0, 1)", [nameof(Dropout)]);
        if (!(ClipGradNorm >= 0) || !float.IsFinite(ClipGradNorm)) return ("the gradient clipping norm must be ≥ 0", [nameof(ClipGradNorm)]);
        if (SchedulePatience < 0) return ("the schedule's patience must be ≥ 0", [nameof(SchedulePatience)]);
        if (!(ConvergenceTolerance >= 0) || !double.IsFinite(ConvergenceTolerance)) return ("the convergence tolerance must be ≥ 0", [nameof(ConvergenceTolerance)]);
        if (ClassWeight != ClassWeighting.None && Task == TrainTask.Regression) return ("class weights are for classification", [nameof(ClassWeight), nameof(Task)]);
        return null;
    }
}
