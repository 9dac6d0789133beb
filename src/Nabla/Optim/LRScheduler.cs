namespace Nabla.Optim;

/// <summary>
/// Base of the learning-rate schedules (torch.optim.lr_scheduler): call <see cref="Step()"/> once per epoch, after
/// the epoch's optimizer steps; it sets the optimizer's learning rate for the next epoch.
/// </summary>
public abstract class LRScheduler
{
    /// <summary>Attaches to <paramref name="optimizer"/>; its current learning rate is the base rate.</summary>
    protected LRScheduler(Optimizer optimizer)
    {
        Optimizer = optimizer;
        BaseLearningRate = optimizer.LearningRate;
    }

    /// <summary>The optimizer whose rate is set.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>γ₀, the rate at epoch 0.</summary>
    public float BaseLearningRate { get; }

    /// <summary>Epochs completed.</summary>
    public int Epoch { get; private set; }

    /// <summary>The schedule's own state, for checkpoints (the rate itself is the optimizer's): its epoch, and what a subclass adds.</summary>
    internal virtual Dictionary<string, double> SaveState() => new() { ["epoch"] = Epoch };

    /// <summary>Restores <see cref="SaveState"/>'s values (a resumed run continues the schedule where it stood).</summary>
    /// <exception cref="FormatException">A value is missing or out of range.</exception>
    internal virtual void RestoreState(IReadOnlyDictionary<string, double> state)
    {
        double epoch = Value(state, "epoch");
        if (epoch < 0 || epoch > int.MaxValue || epoch != Math.Floor(epoch)) throw new FormatException($"scheduler epoch {epoch}");
        Epoch = (int)epoch;
    }

    private protected static double Value(IReadOnlyDictionary<string, double> state, string key) =>
        state.TryGetValue(key, out double v) ? v : throw new FormatException($"the scheduler state has no '{key}'");

    /// <summary>Advances one epoch and sets the new rate.</summary>
    public virtual void Step()
    {
        Epoch++;
        Optimizer.LearningRate = RateAt(Epoch);
    }

    /// <summary>
    /// Advances one epoch given the epoch's monitored metric (the validation loss, else the training loss): schedules
    /// that follow a metric (<see cref="ReduceLROnPlateau"/>) use it, the others ignore it.
    /// </summary>
    public virtual void Step(double metric) => Step();

    /// <summary>The learning rate for epoch <paramref name="epoch"/>.</summary>
    public abstract float RateAt(int epoch);
}

/// <summary>StepLR: <c>γ = γ₀·gamma^⌊epoch/stepSize⌋</c>.</summary>
public sealed class StepLR : LRScheduler
{
    private readonly int _stepSize;
    private readonly float _gamma;

    /// <summary>Creates the schedule.</summary>
    public StepLR(Optimizer optimizer, int stepSize, float gamma = 0.1f) : base(optimizer)
    {
        if (stepSize < 1) throw new ArgumentOutOfRangeException(nameof(stepSize), $"step_size must be ≥ 1; got {stepSize}.");
        _stepSize = stepSize;
        _gamma = gamma;
    }

    /// <inheritdoc/>
    public override float RateAt(int epoch) => BaseLearningRate * MathF.Pow(_gamma, epoch / _stepSize);
}

/// <summary>CosineAnnealingLR (closed form): <c>γ = η_min + (γ₀ − η_min)(1 + cos(π·epoch/T_max))/2</c>.</summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    private readonly int _tMax;
    private readonly float _etaMin;

    /// <summary>Creates the schedule.</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, float etaMin = 0f) : base(optimizer)
    {
        if (tMax < 1) throw new ArgumentOutOfRangeException(nameof(tMax), $"T_max must be ≥ 1; got {tMax}.");
        _tMax = tMax;
        _etaMin = etaMin;
    }

    /// <inheritdoc/>
    public override float RateAt(int epoch) =>
        _etaMin + (BaseLearningRate - _etaMin) * (1 + MathF.Cos(MathF.PI * epoch / _tMax)) / 2;
}

/// <summary>
/// ReduceLROnPlateau, PyTorch's semantics (mode "min", threshold mode "rel"): after each epoch the monitored metric
/// is better when below <c>best·(1 − threshold)</c>; after more than <c>patience</c> epochs without a better one the
/// rate is multiplied by <c>factor</c> (not below <c>minLr</c>, and only if that changes it by more than eps), then
/// <c>cooldown</c> epochs pass before bad epochs count again.
/// </summary>
public sealed class ReduceLROnPlateau : LRScheduler
{
    private readonly float _factor, _threshold, _minLr, _eps;
    private readonly int _patience, _cooldown;
    private double _best = double.PositiveInfinity;
    private int _bad, _cooling;

    /// <summary>Creates the schedule with PyTorch's defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">factor not in (0, 1), or a negative patience, cooldown, threshold or minimum rate.</exception>
    public ReduceLROnPlateau(Optimizer optimizer, float factor = 0.1f, int patience = 10, float threshold = 1e-4f, int cooldown = 0,
        float minLr = 0f, float eps = 1e-8f) : base(optimizer)
    {
        if (!(factor > 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), $"factor must be in (0, 1); got {factor}.");
        if (patience < 0 || cooldown < 0 || !(threshold >= 0) || !(minLr >= 0))
            throw new ArgumentOutOfRangeException(nameof(patience), "patience, cooldown, threshold and min_lr must be non-negative.");
        (_factor, _patience, _threshold, _cooldown, _minLr, _eps) = (factor, patience, threshold, cooldown, minLr, eps);
    }

    /// <summary>Reductions made so far.</summary>
    public int Reductions { get; private set; }

    /// <inheritdoc/>
    internal override Dictionary<string, double> SaveState()
    {
        var state = base.SaveState();
        (state["best"], state["bad"], state["cooling"], state["reductions"]) = (_best, _bad, _cooling, Reductions);
        return state;
    }

    /// <inheritdoc/>
    internal override void RestoreState(IReadOnlyDictionary<string, double> state)
    {
        base.RestoreState(state);
        double best = Value(state, "best"), bad = Value(state, "bad"), cooling = Value(state, "cooling"), reductions = Value(state, "reductions");
        if (double.IsNaN(best) || bad < 0 || cooling < 0 || reductions < 0 || bad > int.MaxValue || cooling > int.MaxValue || reductions > int.MaxValue)
            throw new FormatException("scheduler counters out of range");
        (_best, _bad, _cooling, Reductions) = (best, (int)bad, (int)cooling, (int)reductions);
    }

    /// <summary>The rate stays as it is: it changes only on a plateau of the metric.</summary>
    public override float RateAt(int epoch) => Optimizer.LearningRate;

    /// <summary>Without a metric nothing can be judged: counts the epoch only.</summary>
    public override void Step() { }

    /// <inheritdoc/>
    public override void Step(double metric)
    {
        if (metric < _best * (1 - _threshold)) (_best, _bad) = (metric, 0);
        else _bad++;
        if (_cooling > 0)
        {
            _cooling--;
            _bad = 0;
        }
        if (_bad <= _patience) return;
        float old = Optimizer.LearningRate, next = MathF.Max(old * _factor, _minLr);
        if (old - next > _eps)
        {
            Optimizer.LearningRate = next;
            Reductions++;
        }
        (_cooling, _bad) = (_cooldown, 0);
    }
}
