namespace Nabla.Cuda.Kernels;

/// <summary>
/// Dropout masks on the device, from a counter-based hash instead of a sequential generator: element i of a step's
/// mask is a pure function of (seed, i), so the forward kernel and the backward kernel each recompute it and no mask
/// is stored. The masks are not the CPU's (its generator is sequential): CPU and CUDA runs with dropout agree in
/// distribution, not bit for bit.
/// </summary>
internal static class DropoutMask
{
    /// <summary>0 with probability p, else 1/(1−p) (p = 0: always 1).</summary>
    public static float Factor(uint seed, int index, float p)
    {
        if (p <= 0f) return 1f;
        // murmur3's finalizer over seed + index·φ: every output bit depends on every input bit.
        uint h = seed + (uint)index * 0x9E3779B9u;
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        h *= 0xC2B2AE35u;
        h ^= h >> 16;
        float u = (h >> 8) * (1f / 16777216f); // 24 bits: uniform in [0, 1)
        return u < p ? 0f : 1f / (1f - p);
    }

    /// <summary>
    /// act′ at a dropped-out output z = act(a)·m, times m: the chain rule through the mask. The activation's
    /// output before the mask is z/m where m ≠ 0; where m = 0 the product is 0 whatever act′ is.
    /// </summary>
    public static float Derivative(int act, float z, uint seed, int index, float p)
    {
        float m = Factor(seed, index, p);
        return m == 0f ? 0f : Act.Derivative(act, z / m) * m;
    }
}
