using Nabla.Optim.Rules;
using Nabla.Tensors;

namespace Nabla.Optim;

/// <summary>Hyper-parameters of <see cref="Adagrad"/>, with torch.optim.Adagrad's defaults.</summary>
public sealed record AdagradOptions(float LearningRate = 1e-2f, float LrDecay = 0f, float WeightDecay = 0f,
    float InitialAccumulatorValue = 0f, float Eps = 1e-10f);

/// <summary>
/// Adagrad (torch.optim.Adagrad): <c>γ̃ = γ/(1 + (t−1)η)</c>; <c>g ← g + λθ</c>; <c>s ← s + g²</c>;
/// <c>θ ← θ − γ̃·g/(√s + ε)</c>.
/// </summary>
public sealed class Adagrad : Optimizer
{
    private readonly TensorArena _sum;
    private readonly double _lrDecay;

    /// <summary>Creates the optimizer.</summary>
    public Adagrad(IReadOnlyList<Tensor> parameters, AdagradOptions? options = null)
        : base(parameters, (options ??= new AdagradOptions()).LearningRate)
    {
        Options = options;
        CheckNonNegative(options.LrDecay, "lr decay");
        CheckNonNegative(options.WeightDecay, "weight decay");
        CheckNonNegative(options.InitialAccumulatorValue, "initial accumulator value");
        CheckNonNegative(options.Eps, "eps");
        _sum = StateLike();
        for (int i = 0; i < _sum.Count; i++) _sum[i].Data.Fill(options.InitialAccumulatorValue);
        _lrDecay = StepConstants.Decimal(options.LrDecay);
        BindSlots();
    }

    /// <summary>PyTorch's spelling: <c>new Adagrad(model.Parameters(), lr: 0.1f)</c>.</summary>
    public Adagrad(IReadOnlyList<Tensor> parameters, float lr, float lrDecay = 0f, float weightDecay = 0f,
        float initialAccumulatorValue = 0f, float eps = 1e-10f)
        : this(parameters, new AdagradOptions(lr, lrDecay, weightDecay, initialAccumulatorValue, eps)) { }

    /// <summary>The hyper-parameters.</summary>
    public AdagradOptions Options { get; }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, TensorArena Buffers)> State() => [("sum", _sum)];

    /// <summary>Accumulated squared gradients s, per parameter.</summary>
    public TensorArena Sum => _sum;

    /// <inheritdoc/>
    public override IReadOnlyList<string?> SlotNames => ["sum", null, null];

    /// <inheritdoc/>
    /// <remarks>PyTorch: <c>clr = lr / (1 + (step − 1)·lr_decay)</c> in double.</remarks>
    internal override StepConstants Constants(long step) => new()
    {
        Kind = RuleKind.Adagrad,
        Lr = (float)(DecimalLearningRate / (1 + (step - 1) * _lrDecay)),
        Eps = Options.Eps,
        WeightDecay = Options.WeightDecay,
    };
}
