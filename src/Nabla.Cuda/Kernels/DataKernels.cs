using ILGPU;

namespace Nabla.Cuda.Kernels;

/// <summary>Batch assembly from a dataset resident on the device (for wide first layers, which go through GEMM).</summary>
internal static class DataKernels
{
    /// <summary>
    /// Copies the samples <c>order[start..start+batch)</c> into a contiguous batch: thread i writes feature i mod F
    /// of row i / F (neighbouring threads read neighbouring floats of one sample). Labels stay where they are: the
    /// loss reads them through the same order.
    /// </summary>
    public static void Gather(Index1D i, ArrayView<float> data, ArrayView<int> order, int start, int features, ArrayView<float> x)
    {
        int r = i / features, f = i - r * features;
        x[i] = data[(long)order[start + r] * features + f];
    }

    /// <summary>
    /// Image bytes to the features the host dataset would gather: <c>b / 255</c> (ToTensor), then
    /// <c>(x − mean) / std</c> when normalizing — the same correctly rounded operations, so the same bits.
    /// A grid-stride loop: a fixed number of threads walk the whole image set (a launch of one thread per pixel
    /// would be 47 M threads, which ILGPU's CPU accelerator runs one by one).
    /// </summary>
    public static void FromBytes(Index1D i, ArrayView<byte> bytes, ArrayView<float> x, long total, int threads, float mean, float std, int normalize)
    {
        for (long j = i; j < total; j += threads)
        {
            float v = bytes[j] / 255f;
            x[j] = normalize != 0 ? (v - mean) / std : v;
        }
    }
}
