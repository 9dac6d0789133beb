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
    private readonly float[][]? _momentum;

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
    }

    /// <summary>The hyper-parameters.</summary>
    public SgdOptions Options { get; }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, float[][] Buffers)> State() =>
        _momentum is null ? [] : [("momentum_buffer", _momentum)];

    /// <summary>Momentum buffers b (null without momentum).</summary>
    public float[][]? MomentumBuffers => _momentum;

    /// <inheritdoc/>
    protected override void Update(int index, int offset, Span<float> theta, ReadOnlySpan<float> grad)
    {
        float lr = LearningRate, wd = Options.WeightDecay, mu = Options.Momentum, damp = 1 - Options.Dampening;
        if (wd == 0 && mu == 0)
        {
            // Plain SGD, the textbook's: θ ← θ − γg, one vectorized pass. (γg is rounded, then subtracted,
            // as in the scalar loop below, so the two paths agree bit for bit.)
            TensorPrimitives.MultiplyAdd(grad, -lr, theta, theta);
            return;
        }
        bool first = Steps[index] == 1;
        var buf = _momentum is null ? default : _momentum[index].AsSpan(offset, theta.Length);
        for (int i = 0; i < theta.Length; i++)
        {
            float g = grad[i];
            if (wd != 0) g += wd * theta[i];
            if (mu != 0)
            {
                buf[i] = first ? g : mu * buf[i] + damp * g;
                g = Options.Nesterov ? g + mu * buf[i] : buf[i];
            }
            theta[i] -= lr * g;
        }
    }
}
