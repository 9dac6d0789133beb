using ILGPU;

namespace Nabla.Cuda.Kernels;

/// <summary>
/// Per-element optimizer updates (PyTorch's rules, in the host optimizers' order of operations). One kernel,
/// <see cref="Update"/>, steps a range of the flat parameter arena; <see cref="Apply"/> is the same update as a
/// device function, which the narrow layers' weight-gradient kernel calls to update a weight the moment its
/// gradient is known (no gradient round trip through memory, no separate launch).
/// </summary>
internal static class OptimizerKernels
{
    public const int KindSgd = 0, KindAdam = 1, KindRmsProp = 2, KindAdagrad = 3;
    public const int Nesterov = 1, FirstStep = 2, Decoupled = 4, Amsgrad = 8, Centered = 16, HasMomentum = 32;

    /// <summary>Constants of one step, computed on the host (bias corrections, decayed rates).</summary>
    /// <remarks>State slots: SGD s1 = momentum; Adam s1 = m, s2 = v, s3 = max v; RMSprop s1 = square avg, s2 = grad avg, s3 = momentum; Adagrad s1 = sum.</remarks>
    public struct Hyper
    {
        public float Lr, Beta1, Beta2, Eps, WeightDecay, Momentum, Dampening, L1, StepSize, Bc2Sqrt, DecayFactor;
        public int Kind, Flags; // Kind*, and the flag constants above
    }

    /// <summary>Steps arena elements [offset, offset + extent) with their gradients.</summary>
    public static void Update(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> s1, ArrayView<float> s2,
        ArrayView<float> s3, int offset, Hyper h)
    {
        int at = offset + i;
        Apply(at, p, grad[at], s1, s2, s3, h);
    }

    /// <summary>One element's update: θ = p[at] with gradient g.</summary>
    public static void Apply(int at, ArrayView<float> p, float g, ArrayView<float> s1, ArrayView<float> s2, ArrayView<float> s3, Hyper h)
    {
        float theta = p[at];
        // L1: the subgradient λ₁·sign(θ), added before anything else (as the host optimizers do).
        if (h.L1 != 0f) g += h.L1 * (theta > 0f ? 1f : theta < 0f ? -1f : 0f);
        if (h.Kind == KindAdam) { p[at] = Adam(at, theta, g, s1, s2, s3, h); return; }
        if (h.WeightDecay != 0f) g += h.WeightDecay * theta;
        if (h.Kind == KindSgd) p[at] = Sgd(at, theta, g, s1, h);
        else if (h.Kind == KindRmsProp) p[at] = RmsProp(at, theta, g, s1, s2, s3, h);
        else
        {
            // Adagrad: s ← s + g², θ ← θ − γ′g/(√s + ε), γ′ the decayed rate (in h.Lr).
            float s = s1[at] + g * g;
            s1[at] = s;
            p[at] = theta - h.Lr * g / (MathF.Sqrt(s) + h.Eps);
        }
    }

    /// <summary>SGD: θ − γg with momentum (b = g on the first step), dampening, Nesterov.</summary>
    private static float Sgd(int at, float theta, float g, ArrayView<float> buf, Hyper h)
    {
        if ((h.Flags & HasMomentum) != 0)
        {
            float b = (h.Flags & FirstStep) != 0 ? g : h.Momentum * buf[at] + (1f - h.Dampening) * g;
            buf[at] = b;
            g = (h.Flags & Nesterov) != 0 ? g + h.Momentum * b : b;
        }
        return theta - h.Lr * g;
    }

    /// <summary>Adam / AdamW (decoupled decay), with AMSGrad.</summary>
    private static float Adam(int at, float theta, float g, ArrayView<float> m, ArrayView<float> v, ArrayView<float> vMax, Hyper h)
    {
        if (h.WeightDecay != 0f)
        {
            if ((h.Flags & Decoupled) != 0) theta *= h.DecayFactor;
            else g += h.WeightDecay * theta;
        }
        float mi = h.Beta1 * m[at] + (1f - h.Beta1) * g;
        float vi = h.Beta2 * v[at] + (1f - h.Beta2) * g * g;
        m[at] = mi;
        v[at] = vi;
        if ((h.Flags & Amsgrad) != 0)
        {
            vi = MathF.Max(vMax[at], vi);
            vMax[at] = vi;
        }
        float denom = MathF.Sqrt(vi) / h.Bc2Sqrt + h.Eps;
        return theta - h.StepSize * mi / denom;
    }

    /// <summary>RMSprop (α in Beta2), centered and with momentum as options.</summary>
    private static float RmsProp(int at, float theta, float g, ArrayView<float> v, ArrayView<float> gAvg, ArrayView<float> buf, Hyper h)
    {
        float a = h.Beta2;
        float vi = a * v[at] + (1f - a) * g * g;
        v[at] = vi;
        float vt = vi;
        if ((h.Flags & Centered) != 0)
        {
            float ga = a * gAvg[at] + (1f - a) * g;
            gAvg[at] = ga;
            vt -= ga * ga;
        }
        float denom = MathF.Sqrt(vt) + h.Eps;
        if ((h.Flags & HasMomentum) == 0) return theta - h.Lr * g / denom;
        float b = h.Momentum * buf[at] + g / denom;
        buf[at] = b;
        return theta - h.Lr * b;
    }

    /// <summary>
    /// Gradient clipping without a host round trip: reads ‖g‖² from <paramref name="normSq"/> (written by the sum
    /// kernel) and scales by max/(‖g‖ + 1e-6) when that is below 1 (torch.nn.utils.clip_grad_norm_).
    /// </summary>
    public static void ClipByNorm(Index1D i, ArrayView<float> grad, ArrayView<float> normSq, float maxNorm)
    {
        float coef = maxNorm / (MathF.Sqrt(normSq[0]) + 1e-6f);
        if (coef < 1f) grad[i] *= coef;
    }

    /// <summary><c>y[i] = x[i]²</c>, the first half of the gradient norm.</summary>
    public static void Square(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = x[i] * x[i];
}
