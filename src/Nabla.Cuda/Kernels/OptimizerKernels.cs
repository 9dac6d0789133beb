using ILGPU;

namespace Nabla.Cuda.Kernels;

/// <summary>
/// Per-element optimizer updates (PyTorch's rules, in the host optimizers' order of operations) over one flat arena
/// holding every parameter, so a whole optimizer step is one launch. Hyper-parameters come in a struct; state
/// buffers that a configuration does not use are one-element dummies.
/// </summary>
internal static class OptimizerKernels
{
    /// <summary>Constants of one step, computed on the host (bias corrections, decayed rates).</summary>
    public struct Hyper
    {
        public float Lr, Beta1, Beta2, Eps, WeightDecay, Momentum, Dampening, L1, StepSize, Bc2Sqrt, DecayFactor;
        public int Flags; // see the Flag constants
    }

    public const int Nesterov = 1, FirstStep = 2, Decoupled = 4, Amsgrad = 8, Centered = 16, HasMomentum = 32;

    private static float Gradient(in Hyper h, float g, float theta)
    {
        // L1: the subgradient λ₁·sign(θ), added before anything else (as the host optimizers do).
        if (h.L1 != 0f) g += h.L1 * (theta > 0f ? 1f : theta < 0f ? -1f : 0f);
        return g;
    }

    /// <summary>SGD: θ ← θ − γg with weight decay, momentum (b = g on the first step), dampening, Nesterov.</summary>
    public static void Sgd(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> buf, Hyper h)
    {
        float theta = p[i], g = Gradient(h, grad[i], theta);
        if (h.WeightDecay != 0f) g += h.WeightDecay * theta;
        if ((h.Flags & HasMomentum) != 0)
        {
            float b = (h.Flags & FirstStep) != 0 ? g : h.Momentum * buf[i] + (1f - h.Dampening) * g;
            buf[i] = b;
            g = (h.Flags & Nesterov) != 0 ? g + h.Momentum * b : b;
        }
        p[i] = theta - h.Lr * g;
    }

    /// <summary>Adam / AdamW (decoupled decay), with AMSGrad.</summary>
    public static void Adam(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> vMax, Hyper h)
    {
        float theta = p[i], g = Gradient(h, grad[i], theta);
        if (h.WeightDecay != 0f)
        {
            if ((h.Flags & Decoupled) != 0) theta *= h.DecayFactor;
            else g += h.WeightDecay * theta;
        }
        float mi = h.Beta1 * m[i] + (1f - h.Beta1) * g;
        float vi = h.Beta2 * v[i] + (1f - h.Beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        if ((h.Flags & Amsgrad) != 0)
        {
            vi = MathF.Max(vMax[i], vi);
            vMax[i] = vi;
        }
        float denom = MathF.Sqrt(vi) / h.Bc2Sqrt + h.Eps;
        p[i] = theta - h.StepSize * mi / denom;
    }

    /// <summary>RMSprop, centered and with momentum as options.</summary>
    public static void RmsProp(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> v,
        ArrayView<float> gAvg, ArrayView<float> buf, Hyper h)
    {
        float theta = p[i], g = Gradient(h, grad[i], theta), a = h.Beta2;
        if (h.WeightDecay != 0f) g += h.WeightDecay * theta;
        float vi = a * v[i] + (1f - a) * g * g;
        v[i] = vi;
        float vt = vi;
        if ((h.Flags & Centered) != 0)
        {
            float ga = a * gAvg[i] + (1f - a) * g;
            gAvg[i] = ga;
            vt -= ga * ga;
        }
        float denom = MathF.Sqrt(vt) + h.Eps;
        if ((h.Flags & HasMomentum) != 0)
        {
            float b = h.Momentum * buf[i] + g / denom;
            buf[i] = b;
            p[i] = theta - h.Lr * b;
        }
        else p[i] = theta - h.Lr * g / denom;
    }

    /// <summary>Adagrad: s ← s + g², θ ← θ − γ′g/(√s + ε), γ′ the decayed rate.</summary>
    public static void Adagrad(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> sum, Hyper h)
    {
        float theta = p[i], g = Gradient(h, grad[i], theta);
        if (h.WeightDecay != 0f) g += h.WeightDecay * theta;
        float s = sum[i] + g * g;
        sum[i] = s;
        p[i] = theta - h.Lr * g / (MathF.Sqrt(s) + h.Eps);
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
