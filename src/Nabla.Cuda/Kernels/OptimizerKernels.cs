using ILGPU;
using Nabla.Optim.Rules;

namespace Nabla.Cuda.Kernels;

/// <summary>
/// Per-element optimizer updates: the host optimizers' own rules (<see cref="UpdateRules"/>), run per thread in a <see cref="DeviceLane"/>. One kernel,
/// <see cref="Update"/>, steps a range of the flat parameter arena; <see cref="Apply"/> is the same update as a
/// device function, which the narrow layers' weight-gradient kernel calls to update a weight the moment its
/// gradient is known (no gradient round trip through memory, no separate launch).
/// </summary>
internal static class OptimizerKernels
{
    /// <summary>Steps arena elements [offset, offset + extent) with their gradients.</summary>
    public static void Update(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> s1, ArrayView<float> s2,
        ArrayView<float> s3, int offset, StepConstants k)
    {
        int at = offset + i;
        Apply(at, p, grad[at], s1, s2, s3, k);
    }

    /// <summary>
    /// One element's update, θ = p[at] with gradient g: the host's rule (<see cref="UpdateRules"/>) on one float.
    /// Unused slots are empty views.
    /// </summary>
    public static void Apply(int at, ArrayView<float> p, float g, ArrayView<float> s1, ArrayView<float> s2, ArrayView<float> s3, StepConstants k)
    {
        var x = new LaneState<DeviceLane>
        {
            Theta = new DeviceLane(p[at]),
            S1 = new DeviceLane(s1.Length > 0 ? s1[at] : 0f),
            S2 = new DeviceLane(s2.Length > 0 ? s2[at] : 0f),
            S3 = new DeviceLane(s3.Length > 0 ? s3[at] : 0f),
        };
        x = UpdateRules.Apply(x, new DeviceLane(g), k);
        p[at] = x.Theta.V;
        if (s1.Length > 0) s1[at] = x.S1.V;
        if (s2.Length > 0) s2[at] = x.S2.V;
        if (s3.Length > 0) s3[at] = x.S3.V;
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
