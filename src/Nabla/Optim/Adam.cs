using Nabla.Optim.Rules;
using Nabla.Tensors;

namespace Nabla.Optim;

/// <summary>Hyper-parameters of <see cref="Adam"/>, with torch.optim.Adam's defaults.</summary>
public sealed record AdamOptions(float LearningRate = 1e-3f, float Beta1 = 0.9f, float Beta2 = 0.999f,
    float Eps = 1e-8f, float WeightDecay = 0f, bool Amsgrad = false);

/// <summary>
/// Adam (torch.optim.Adam): <c>g ← g + λθ</c>; <c>m ← β₁m + (1−β₁)g</c>; <c>v ← β₂v + (1−β₂)g²</c>;
/// <c>θ ← θ − (γ/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)</c>, with v replaced by its running maximum under AMSGrad.
/// The arithmetic follows PyTorch's implementation order (step size, then denominator).
/// </summary>
public class Adam : Optimizer
{
    private readonly TensorArena _m, _v;
    private readonly TensorArena? _vMax;
    private readonly double _beta1, _beta2, _weightDecay; // as the decimals PyTorch receives

    /// <summary>Creates the optimizer.</summary>
    public Adam(IReadOnlyList<Tensor> parameters, AdamOptions? options = null)
        : base(parameters, (options ??= new AdamOptions()).LearningRate)
    {
        Options = options;
        CheckUnit(options.Beta1, "beta1");
        CheckUnit(options.Beta2, "beta2");
        CheckNonNegative(options.Eps, "eps");
        CheckNonNegative(options.WeightDecay, "weight decay");
        _m = StateLike();
        _v = StateLike();
        if (options.Amsgrad) _vMax = StateLike();
        (_beta1, _beta2, _weightDecay) = (StepConstants.Decimal(options.Beta1), StepConstants.Decimal(options.Beta2), StepConstants.Decimal(options.WeightDecay));
        BindSlots();
    }

    /// <summary>PyTorch's spelling: <c>new Adam(model.Parameters(), lr: 0.01f)</c>.</summary>
    public Adam(IReadOnlyList<Tensor> parameters, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 0f, bool amsgrad = false)
        : this(parameters, new AdamOptions(lr, beta1, beta2, eps, weightDecay, amsgrad)) { }

    /// <summary>The hyper-parameters.</summary>
    public AdamOptions Options { get; }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, TensorArena Buffers)> State() =>
        _vMax is null ? [("exp_avg", _m), ("exp_avg_sq", _v)] : [("exp_avg", _m), ("exp_avg_sq", _v), ("max_exp_avg_sq", _vMax)];

    /// <summary>First-moment estimates m, per parameter.</summary>
    public TensorArena ExpAvg => _m;

    /// <summary>Second-moment estimates v, per parameter.</summary>
    public TensorArena ExpAvgSq => _v;

    /// <summary>Running maxima of v under AMSGrad (null otherwise).</summary>
    public TensorArena? MaxExpAvgSq => _vMax;

    /// <summary>Whether weight decay is decoupled (AdamW) rather than added to the gradient.</summary>
    protected virtual bool Decoupled => false;

    /// <inheritdoc/>
    public override IReadOnlyList<string?> SlotNames => ["exp_avg", "exp_avg_sq", _vMax is null ? null : "max_exp_avg_sq"];

    /// <inheritdoc/>
    /// <remarks>PyTorch: <c>step_size = lr / (1 − β₁ᵗ)</c> and <c>√(1 − β₂ᵗ)</c> in double, <c>1 − β</c> in double.</remarks>
    internal override StepConstants Constants(long step)
    {
        var o = Options;
        double lr = DecimalLearningRate, b1 = _beta1, b2 = _beta2;
        return new StepConstants
        {
            Kind = RuleKind.Adam,
            Lr = LearningRate,
            StepSize = (float)(lr / (1 - Math.Pow(b1, step))),
            Bc2Sqrt = (float)Math.Sqrt(1 - Math.Pow(b2, step)),
            Beta1 = o.Beta1,
            OneMinusBeta1 = (float)(1 - b1),
            Beta2 = o.Beta2,
            OneMinusBeta2 = (float)(1 - b2),
            Eps = o.Eps,
            WeightDecay = o.WeightDecay,
            DecayFactor = Decoupled ? (float)(1 - lr * _weightDecay) : 1f,
            Flags = (Decoupled ? StepConstants.Decoupled : 0) | (o.Amsgrad ? StepConstants.Amsgrad : 0),
        };
    }
}
