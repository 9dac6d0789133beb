namespace Nabla.Optim;

/// <summary>
/// Base of the learning-rate schedules (torch.optim.lr_scheduler): call <see cref="Step"/> once per epoch, after
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

    /// <summary>Advances one epoch and sets the new rate.</summary>
    public void Step()
    {
        Epoch++;
        Optimizer.LearningRate = RateAt(Epoch);
    }

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
