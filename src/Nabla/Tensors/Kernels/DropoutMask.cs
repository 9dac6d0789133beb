namespace Nabla.Tensors.Kernels;

/// <summary>
/// Dropout masks from a counter-based hash instead of a sequential generator: element i of a step's mask is a pure
/// function of (the layer's seed, epoch, batch, i). So the CPU layer, the CUDA kernels (which recompute the mask in
/// the backward pass instead of storing it) and a run resumed mid-epoch all draw the same masks, and CPU and CUDA
/// runs with dropout agree as runs without it do. Device code calls these functions: they use no managed objects.
/// </summary>
internal static class DropoutMask
{
    /// <summary>The 32-bit seed of one layer's mask at one training step.</summary>
    public static uint StepSeed(ulong layerSeed, int epoch, int batch) =>
        (uint)Mix(layerSeed ^ Mix((((ulong)(uint)epoch << 32) | (uint)batch) * 31 + 0x9E3779B97F4A7C15UL));

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

    /// <summary>Fills <paramref name="mask"/> with the factors of elements 0, 1, … for <paramref name="seed"/>.</summary>
    public static void Fill(Span<float> mask, uint seed, float p, int first = 0)
    {
        for (int i = 0; i < mask.Length; i++) mask[i] = Factor(seed, first + i, p);
    }

    /// <summary>SplitMix64's finalizer.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
