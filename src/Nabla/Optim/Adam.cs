using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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

    /// <inheritdoc/>
    public override IEnumerable<(string Name, float[][] Buffers)> State() =>
        _vMax is null ? [("exp_avg", _m), ("exp_avg_sq", _v)] : [("exp_avg", _m), ("exp_avg_sq", _v), ("max_exp_avg_sq", _vMax)];

    /// <summary>First-moment estimates m, per parameter.</summary>
    public float[][] ExpAvg => _m;

    /// <summary>Second-moment estimates v, per parameter.</summary>
    public float[][] ExpAvgSq => _v;

    /// <summary>Running maxima of v under AMSGrad (null otherwise).</summary>
    public float[][]? MaxExpAvgSq => _vMax;

    /// <summary>Whether weight decay is decoupled (AdamW) rather than added to the gradient.</summary>
    protected virtual bool Decoupled => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(int index, int offset, Span<float> theta, ReadOnlySpan<float> grad)
    {
        var o = Options;
        long t = Steps[index];
        float lr = LearningRate;
        float bc1 = 1 - MathF.Pow(o.Beta1, t);
        float bc2Sqrt = MathF.Sqrt(1 - MathF.Pow(o.Beta2, t));
        var k = new Constants(lr / bc1, bc2Sqrt, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, Decoupled ? 1 - lr * o.WeightDecay : 1);
        var m = _m[index].AsSpan(offset, theta.Length);
        var v = _v[index].AsSpan(offset, theta.Length);
        var vMax = _vMax is null ? default : _vMax[index].AsSpan(offset, theta.Length);
        bool decoupled = Decoupled, ams = !vMax.IsEmpty;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= theta.Length - 8; i += 8)
            {
                var th = Vector256.Create(theta.Slice(i, 8));
                var g = Vector256.Create(grad.Slice(i, 8));
                if (k.WeightDecay != 0)
                {
                    if (decoupled) th *= Vector256.Create(k.DecayFactor);
                    else g += Vector256.Create(k.WeightDecay) * th;
                }
                var mi = Vector256.Create(k.Beta1) * Vector256.Create(m.Slice(i, 8)) + Vector256.Create(1 - k.Beta1) * g;
                var vi = Vector256.Create(k.Beta2) * Vector256.Create(v.Slice(i, 8)) + Vector256.Create(1 - k.Beta2) * g * g;
                mi.CopyTo(m.Slice(i, 8));
                vi.CopyTo(v.Slice(i, 8));
                var vHat = vi;
                if (ams)
                {
                    vHat = Vector256.Max(Vector256.Create(vMax.Slice(i, 8)), vi);
                    vHat.CopyTo(vMax.Slice(i, 8));
                }
                var denom = Vector256.Sqrt(vHat) / Vector256.Create(k.Bc2Sqrt) + Vector256.Create(k.Eps);
                (th - Vector256.Create(k.StepSize) * mi / denom).CopyTo(theta.Slice(i, 8));
            }
        }
        for (; i < theta.Length; i++)
        {
            float g = grad[i];
            if (k.WeightDecay != 0)
            {
                if (decoupled) theta[i] *= k.DecayFactor;
                else g += k.WeightDecay * theta[i];
            }
            m[i] = k.Beta1 * m[i] + (1 - k.Beta1) * g;
            v[i] = k.Beta2 * v[i] + (1 - k.Beta2) * g * g;
            float vHat = v[i];
            if (ams) vHat = vMax[i] = MathF.Max(vMax[i], v[i]);
            float denom = MathF.Sqrt(vHat) / k.Bc2Sqrt + k.Eps;
            theta[i] -= k.StepSize * m[i] / denom;
        }
    }

    /// <summary>The step's scalars, computed once per update rather than per element.</summary>
    private readonly record struct Constants(float StepSize, float Bc2Sqrt, float Beta1, float Beta2, float Eps,
        float WeightDecay, float DecayFactor);
}
