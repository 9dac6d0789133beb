using System.Runtime.CompilerServices;

namespace Nabla.Optim.Rules;

/// <summary>One element (or one SIMD lane group) of a parameter and its optimizer state slots.</summary>
/// <typeparam name="T">The lane.</typeparam>
internal struct LaneState<T> where T : struct, ILane<T>
{
    /// <summary>θ.</summary>
    public T Theta;
    /// <summary>Slot 1: SGD momentum buffer; Adam m; RMSprop square average; Adagrad sum.</summary>
    public T S1;
    /// <summary>Slot 2: Adam v; RMSprop gradient average.</summary>
    public T S2;
    /// <summary>Slot 3: Adam max v (AMSGrad); RMSprop momentum buffer.</summary>
    public T S3;
}

/// <summary>
/// The optimizers' update rules, each written once in PyTorch's order of operations (torch.optim's single-tensor
/// implementations, 1.13) and run by the CPU's vector body and scalar tail and by the CUDA kernels alike.
/// PyTorch's CPU kernels are compiled with multiply-add contraction: <c>t.add_(x, alpha=a)</c> computes
/// <c>fma(x, a, t)</c> and <c>t.addcmul_(x, y, value=c)</c> computes <c>fma(c·x, y, t)</c>, while <c>addcdiv</c>
/// (a division) and separate kernels round each operation. The rules do the same (<see cref="AddScaled"/>,
/// <see cref="AddProduct"/>), which the golden tests check bit for bit against torch.optim. Everything is passed and
/// returned by value: device code takes no references.
/// </summary>
internal static class UpdateRules
{
    /// <summary>One update of <paramref name="x"/> with gradient <paramref name="g"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LaneState<T> Apply<T>(LaneState<T> x, T g, StepConstants k) where T : struct, ILane<T>
    {
        // L1: the subgradient λ₁·sign(θ), added before anything else.
        if (k.L1 != 0f) g += T.Splat(k.L1) * T.Sign(x.Theta);
        if (k.Kind == RuleKind.Adam) return Adam(x, g, k);
        if (k.WeightDecay != 0f) g = AddScaled(g, x.Theta, k.WeightDecay); // grad.add(param, alpha=weight_decay)
        return k.Kind switch
        {
            RuleKind.Sgd => Sgd(x, g, k),
            RuleKind.RmsProp => RmsProp(x, g, k),
            _ => Adagrad(x, g, k),
        };
    }

    /// <summary>SGD: b ← μb + (1−τ)g (b = g on the first step); g ← b, or g + μb with Nesterov; θ ← θ − γg.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LaneState<T> Sgd<T>(LaneState<T> x, T g, StepConstants k) where T : struct, ILane<T>
    {
        if ((k.Flags & StepConstants.HasMomentum) != 0)
        {
            // buf.mul_(momentum).add_(d_p, alpha=1 − dampening); Nesterov: d_p.add(buf, alpha=momentum)
            x.S1 = (k.Flags & StepConstants.FirstStep) != 0 ? g : AddScaled(x.S1 * T.Splat(k.Momentum), g, k.OneMinusDampening);
            g = (k.Flags & StepConstants.Nesterov) != 0 ? AddScaled(g, x.S1, k.Momentum) : x.S1;
        }
        x.Theta = AddScaled(x.Theta, g, -k.Lr); // param.add_(d_p, alpha=−lr)
        return x;
    }

    /// <summary>
    /// Adam / AdamW: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; v̂ = max(v̂, v) under AMSGrad;
    /// θ ← θ − (γ/(1−β₁ᵗ))·m / (√v̂/√(1−β₂ᵗ) + ε); AdamW first decays θ by 1 − γλ.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LaneState<T> Adam<T>(LaneState<T> x, T g, StepConstants k) where T : struct, ILane<T>
    {
        if (k.WeightDecay != 0f)
        {
            if ((k.Flags & StepConstants.Decoupled) != 0) x.Theta *= T.Splat(k.DecayFactor);
            else g = AddScaled(g, x.Theta, k.WeightDecay);
        }
        x.S1 = AddScaled(x.S1 * T.Splat(k.Beta1), g, k.OneMinusBeta1);          // exp_avg.mul_(β₁).add_(grad, alpha=1 − β₁)
        x.S2 = AddProduct(x.S2 * T.Splat(k.Beta2), T.Splat(k.OneMinusBeta2) * g, g); // exp_avg_sq.mul_(β₂).addcmul_(grad, grad, value=1 − β₂)
        var v = x.S2;
        if ((k.Flags & StepConstants.Amsgrad) != 0) v = x.S3 = T.Max(x.S3, x.S2);
        var denom = T.Sqrt(v) / T.Splat(k.Bc2Sqrt) + T.Splat(k.Eps);
        x.Theta += T.Splat(-k.StepSize) * x.S1 / denom;                         // param.addcdiv_(exp_avg, denom, value=−step_size)
        return x;
    }

    /// <summary>
    /// RMSprop: v ← αv + (1−α)g²; centered: ḡ ← αḡ + (1−α)g, ṽ = v − ḡ²; d = √ṽ + ε; θ ← θ − γg/d, or with
    /// momentum b ← μb + g/d, θ ← θ − γb.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LaneState<T> RmsProp<T>(LaneState<T> x, T g, StepConstants k) where T : struct, ILane<T>
    {
        x.S1 = AddProduct(x.S1 * T.Splat(k.Beta2), T.Splat(k.OneMinusBeta2) * g, g); // square_avg.mul_(α).addcmul_(grad, grad, value=1 − α)
        var v = x.S1;
        if ((k.Flags & StepConstants.Centered) != 0)
        {
            x.S2 = AddScaled(x.S2 * T.Splat(k.Beta2), g, k.OneMinusBeta2);     // grad_avg.mul_(α).add_(grad, alpha=1 − α)
            v = AddProduct(v, T.Splat(-1f) * x.S2, x.S2);                       // square_avg.addcmul(grad_avg, grad_avg, value=−1)
        }
        var denom = T.Sqrt(v) + T.Splat(k.Eps);
        if ((k.Flags & StepConstants.HasMomentum) != 0)
        {
            x.S3 = x.S3 * T.Splat(k.Momentum) + T.Splat(1f) * g / denom;        // buf.mul_(μ).addcdiv_(grad, avg)
            x.Theta = AddScaled(x.Theta, x.S3, -k.Lr);                          // param.add_(buf, alpha=−lr)
        }
        else x.Theta += T.Splat(-k.Lr) * g / denom;                              // param.addcdiv_(grad, avg, value=−lr)
        return x;
    }

    /// <summary>Adagrad: s ← s + g²; θ ← θ − γ̃g/(√s + ε), γ̃ the decayed rate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LaneState<T> Adagrad<T>(LaneState<T> x, T g, StepConstants k) where T : struct, ILane<T>
    {
        x.S1 = AddProduct(x.S1, g, g);                                          // state_sum.addcmul_(grad, grad, value=1)
        x.Theta += T.Splat(-k.Lr) * g / (T.Sqrt(x.S1) + T.Splat(k.Eps));       // param.addcdiv_(grad, std, value=−clr)
        return x;
    }

    /// <summary><c>t + x·y</c> rounded once: PyTorch's <c>t.addcmul_(x′, y, value=c)</c> with x = c·x′.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T AddProduct<T>(T t, T x, T y) where T : struct, ILane<T> => T.FusedMultiplyAdd(x, y, t);

    /// <summary><c>t + a·x</c> rounded once: PyTorch's <c>t.add_(x, alpha=a)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T AddScaled<T>(T t, T x, float a) where T : struct, ILane<T> => T.FusedMultiplyAdd(x, T.Splat(a), t);
}
