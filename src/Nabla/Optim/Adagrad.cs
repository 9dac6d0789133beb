using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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
    private readonly float[][] _sum;

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
        foreach (var s in _sum) Array.Fill(s, options.InitialAccumulatorValue);
    }

    /// <summary>The hyper-parameters.</summary>
    public AdagradOptions Options { get; }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, float[][] Buffers)> State() => [("sum", _sum)];

    /// <summary>Accumulated squared gradients s, per parameter.</summary>
    public float[][] Sum => _sum;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(int index, int offset, Span<float> theta, ReadOnlySpan<float> grad)
    {
        var o = Options;
        float clr = LearningRate / (1 + (Steps[index] - 1) * o.LrDecay);
        float wd = o.WeightDecay, eps = o.Eps;
        var s = _sum[index].AsSpan(offset, theta.Length);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // The scalar loop below, eight lanes at a time, with the same operations in the same order.
            for (; i <= theta.Length - 8; i += 8)
            {
                var th = Vector256.Create(theta.Slice(i, 8));
                var g = Vector256.Create(grad.Slice(i, 8));
                if (wd != 0) g += Vector256.Create(wd) * th;
                var si = Vector256.Create(s.Slice(i, 8)) + g * g;
                si.CopyTo(s.Slice(i, 8));
                (th - Vector256.Create(clr) * g / (Vector256.Sqrt(si) + Vector256.Create(eps))).CopyTo(theta.Slice(i, 8));
            }
        }
        for (; i < theta.Length; i++)
        {
            float g = grad[i];
            if (wd != 0) g += wd * theta[i];
            s[i] += g * g;
            theta[i] -= clr * g / (MathF.Sqrt(s[i]) + eps);
        }
    }
}
