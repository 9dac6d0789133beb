using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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
    private readonly float[][] _v;
    private readonly float[][]? _gAvg, _buf;

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
    }

    /// <summary>The hyper-parameters.</summary>
    public RmsPropOptions Options { get; }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, float[][] Buffers)> State()
    {
        yield return ("square_avg", _v);
        if (_gAvg is not null) yield return ("grad_avg", _gAvg);
        if (_buf is not null) yield return ("momentum_buffer", _buf);
    }

    /// <summary>Square averages v, per parameter.</summary>
    public float[][] SquareAvg => _v;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(int index, int offset, Span<float> theta, ReadOnlySpan<float> grad)
    {
        var o = Options;
        float lr = LearningRate, a = o.Alpha, wd = o.WeightDecay, mu = o.Momentum, eps = o.Eps;
        var v = _v[index].AsSpan(offset, theta.Length);
        var gAvg = _gAvg is null ? default : _gAvg[index].AsSpan(offset, theta.Length);
        var buf = _buf is null ? default : _buf[index].AsSpan(offset, theta.Length);
        bool centered = !gAvg.IsEmpty, momentum = !buf.IsEmpty;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // The scalar loop below, eight lanes at a time, with the same operations in the same order.
            for (; i <= theta.Length - 8; i += 8)
            {
                var th = Vector256.Create(theta.Slice(i, 8));
                var g = Vector256.Create(grad.Slice(i, 8));
                if (wd != 0) g += Vector256.Create(wd) * th;
                var vi = Vector256.Create(a) * Vector256.Create(v.Slice(i, 8)) + Vector256.Create(1 - a) * g * g;
                vi.CopyTo(v.Slice(i, 8));
                var vt = vi;
                if (centered)
                {
                    var ga = Vector256.Create(a) * Vector256.Create(gAvg.Slice(i, 8)) + Vector256.Create(1 - a) * g;
                    ga.CopyTo(gAvg.Slice(i, 8));
                    vt -= ga * ga;
                }
                var denom = Vector256.Sqrt(vt) + Vector256.Create(eps);
                if (momentum)
                {
                    var b = Vector256.Create(mu) * Vector256.Create(buf.Slice(i, 8)) + g / denom;
                    b.CopyTo(buf.Slice(i, 8));
                    (th - Vector256.Create(lr) * b).CopyTo(theta.Slice(i, 8));
                }
                else (th - Vector256.Create(lr) * g / denom).CopyTo(theta.Slice(i, 8));
            }
        }
        for (; i < theta.Length; i++)
        {
            float g = grad[i];
            if (wd != 0) g += wd * theta[i];
            v[i] = a * v[i] + (1 - a) * g * g;
            float vt = v[i];
            if (centered)
            {
                gAvg[i] = a * gAvg[i] + (1 - a) * g;
                vt -= gAvg[i] * gAvg[i];
            }
            float denom = MathF.Sqrt(vt) + eps;
            if (momentum)
            {
                buf[i] = mu * buf[i] + g / denom;
                theta[i] -= lr * buf[i];
            }
            else theta[i] -= lr * g / denom;
        }
    }
}
