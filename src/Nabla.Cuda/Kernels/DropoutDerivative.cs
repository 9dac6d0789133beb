using Nabla.Tensors.Kernels;

namespace Nabla.Cuda.Kernels;

/// <summary>The chain rule through a dropout mask inside the fused layer kernels (the mask is the host's, <see cref="DropoutMask"/>).</summary>
internal static class DropoutDerivative
{
    /// <summary>
    /// act′ at a dropped-out output z = act(a)·m, times m: the chain rule through the mask. The activation's
    /// output before the mask is z/m where m ≠ 0; where m = 0 the product is 0 whatever act′ is.
    /// </summary>
    public static float Of(int act, float z, uint seed, int index, float p)
    {
        float m = DropoutMask.Factor(seed, index, p);
        return m == 0f ? 0f : Act.Derivative(act, z / m) * m;
    }
}
