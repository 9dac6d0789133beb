using Nabla.Optim.Rules;
using Nabla.Tensors;

namespace Nabla.Optim;

/// <summary>Hyper-parameters of <see cref="RmsProp"/>, with torch.optim.RMSprop's defaults.</summary>
public sealed record RmsPropOptions(float LearningRate = 1e-2f, float Alpha = 0.99f, float Eps = 1e-8f,
    float WeightDecay = 0f, float Momentum = 0f, bool Centered = false);

/// <summary>
/// RMSprop (torch.optim.RMSprop): <c>g ← g + λθ</c>; <c>v ← αv + (1−α)g²</c>; centered: <c>ḡ ← αḡ + (1−α)g</c>,
/// <c>ṽ = v − ḡ²</c>; then <c>θ ← θ − γ·g/(√ṽ + ε)</c>, or with momentum <c>b ← μb + g/(√ṽ + ε)</c>, <c>θ ← θ − γb</c>.
/// </summary>
public sealed class RmsProp : Optimizer
{
    private readonly TensorArena _v;
    private readonly TensorArena? _gAvg, _buf;
    private readonly float _oneMinusAlpha; // 1 − α in double, as PyTorch's value=1 − alpha

    /// <summary>Creates the optimizer.</summary>
    public RmsProp(IReadOnlyList<Tensor> parameters, RmsPropOptions? options = null)
        : base(parameters, (options ??= new RmsPropOptions()).LearningRate)
    {
        Options = options;
        CheckNonNegative(options.Alpha, "alpha");
        CheckNonNegative(options.Eps, "eps");
        CheckNonNegative(options.WeightDecay, "weight decay");
        CheckNonNegative(options.Momentum, "momentum");
        _v = StateLike();
        if (options.Centered) _gAvg = StateLike();
        if (options.Momentum > 0) _buf = StateLike();
        _oneMinusAlpha = (float)(1 - StepConstants.Decimal(options.Alpha));
        BindSlots();
    }

    /// <summary>PyTorch's spelling: <c>new RmsProp(model.Parameters(), lr: 0.01f, momentum: 0.9f)</c>.</summary>
    public RmsProp(IReadOnlyList<Tensor> parameters, float lr, float alpha = 0.99f, float eps = 1e-8f, float weightDecay = 0f,
        float momentum = 0f, bool centered = false)
        : this(parameters, new RmsPropOptions(lr, alpha, eps, weightDecay, momentum, centered)) { }

    /// <summary>The hyper-parameters.</summary>
    public RmsPropOptions Options { get; }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, TensorArena Buffers)> State()
    {
        yield return ("square_avg", _v);
        if (_gAvg is not null) yield return ("grad_avg", _gAvg);
        if (_buf is not null) yield return ("momentum_buffer", _buf);
    }

    /// <summary>Square averages v, per parameter.</summary>
    public TensorArena SquareAvg => _v;

    /// <inheritdoc/>
    public override IReadOnlyList<string?> SlotNames => ["square_avg", _gAvg is null ? null : "grad_avg", _buf is null ? null : "momentum_buffer"];

    /// <inheritdoc/>
    internal override StepConstants Constants(long step) => new()
    {
        Kind = RuleKind.RmsProp,
        Lr = LearningRate,
        Beta2 = Options.Alpha,
        OneMinusBeta2 = _oneMinusAlpha,
        Eps = Options.Eps,
        WeightDecay = Options.WeightDecay,
        Momentum = Options.Momentum,
        Flags = (Options.Centered ? StepConstants.Centered : 0) | (Options.Momentum > 0 ? StepConstants.HasMomentum : 0),
    };
}
