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
    private readonly float[][] _m, _v;
    private readonly float[][]? _vMax;

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
    }

    /// <summary>The hyper-parameters.</summary>
    public AdamOptions Options { get; }

    /// <summary>First-moment estimates m, per parameter.</summary>
    public float[][] ExpAvg => _m;

    /// <summary>Second-moment estimates v, per parameter.</summary>
    public float[][] ExpAvgSq => _v;

    /// <summary>Running maxima of v under AMSGrad (null otherwise).</summary>
    public float[][]? MaxExpAvgSq => _vMax;

    /// <summary>Whether weight decay is decoupled (AdamW) rather than added to the gradient.</summary>
    protected virtual bool Decoupled => false;

    /// <inheritdoc/>
    protected override void Update(int index, int offset, Span<float> theta, ReadOnlySpan<float> grad)
    {
        var o = Options;
        long t = Steps[index];
        float lr = LearningRate;
        float bc1 = 1 - MathF.Pow(o.Beta1, t);
        float bc2Sqrt = MathF.Sqrt(1 - MathF.Pow(o.Beta2, t));
        float stepSize = lr / bc1;
        float wd = o.WeightDecay, b1 = o.Beta1, b2 = o.Beta2, eps = o.Eps;
        var m = _m[index].AsSpan(offset, theta.Length);
        var v = _v[index].AsSpan(offset, theta.Length);
        var vMax = _vMax is null ? default : _vMax[index].AsSpan(offset, theta.Length);
        bool decoupled = Decoupled;
        for (int i = 0; i < theta.Length; i++)
        {
            float g = grad[i];
            if (wd != 0)
            {
                if (decoupled) theta[i] *= 1 - lr * wd;
                else g += wd * theta[i];
            }
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            float vHat = v[i];
            if (!vMax.IsEmpty) vHat = vMax[i] = MathF.Max(vMax[i], v[i]);
            float denom = MathF.Sqrt(vHat) / bc2Sqrt + eps;
            theta[i] -= stepSize * m[i] / denom;
        }
    }
}
