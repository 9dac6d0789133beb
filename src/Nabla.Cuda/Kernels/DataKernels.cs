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
}
