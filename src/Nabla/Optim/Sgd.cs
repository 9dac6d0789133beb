using Nabla.Optim.Rules;
using Nabla.Tensors;

namespace Nabla.Optim;

/// <summary>Hyper-parameters of <see cref="Sgd"/>, with torch.optim.SGD's defaults.</summary>
public sealed record SgdOptions(float LearningRate = 1e-3f, float Momentum = 0f, float Dampening = 0f,
    float WeightDecay = 0f, bool Nesterov = false);

/// <summary>
/// Stochastic gradient descent (torch.optim.SGD): <c>g ← g + λθ</c>; with momentum μ,
/// <c>b ← μb + (1−τ)g</c> (b = g on the first step) and <c>g ← b</c>, or <c>g ← g + μb</c> with Nesterov;
/// then <c>θ ← θ − γg</c>.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly TensorArena? _momentum;
    private readonly float _oneMinusDampening; // 1 − τ in double, as PyTorch's alpha=1 − dampening

    /// <summary>Creates the optimizer.</summary>
    /// <exception cref="ArgumentException">Nesterov without momentum or with dampening, or a negative value.</exception>
    public Sgd(IReadOnlyList<Tensor> parameters, SgdOptions? options = null)
        : base(parameters, (options ??= new SgdOptions()).LearningRate)
    {
        Options = options;
        CheckNonNegative(options.Momentum, "momentum");
        CheckNonNegative(options.WeightDecay, "weight decay");
        CheckNonNegative(options.Dampening, "dampening");
        if (options.Nesterov && (options.Momentum <= 0 || options.Dampening != 0))
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening.");
        if (options.Momentum != 0) _momentum = StateLike();
        _oneMinusDampening = (float)(1 - StepConstants.Decimal(options.Dampening));
        BindSlots();
    }

    /// <summary>PyTorch's spelling: <c>new Sgd(model.Parameters(), lr: 0.1f, momentum: 0.9f)</c>.</summary>
    public Sgd(IReadOnlyList<Tensor> parameters, float lr, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : this(parameters, new SgdOptions(lr, momentum, dampening, weightDecay, nesterov)) { }

    /// <summary>The hyper-parameters.</summary>
    public SgdOptions Options { get; }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, TensorArena Buffers)> State() =>
        _momentum is null ? [] : [("momentum_buffer", _momentum)];

    /// <summary>Momentum buffers b (null without momentum).</summary>
    public TensorArena? MomentumBuffers => _momentum;

    /// <inheritdoc/>
    public override IReadOnlyList<string?> SlotNames => ["momentum_buffer", null, null];

    /// <inheritdoc/>
    internal override StepConstants Constants(long step) => new()
    {
        Kind = RuleKind.Sgd,
        Lr = LearningRate,
        WeightDecay = Options.WeightDecay,
        Momentum = Options.Momentum,
        OneMinusDampening = _oneMinusDampening,
        Flags = (Options.Momentum != 0 ? StepConstants.HasMomentum : 0) | (Options.Nesterov ? StepConstants.Nesterov : 0)
            | (step == 1 ? StepConstants.FirstStep : 0),
    };
}
