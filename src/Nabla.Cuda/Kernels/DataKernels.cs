using ILGPU;

namespace Nabla.Cuda.Kernels;

/// <summary>Batch assembly from a dataset resident on the device.</summary>
internal static class DataKernels
{
    /// <summary>
    /// Copies the samples <c>order[start..start+batch)</c> into a batch: thread i writes feature i mod F of row
    /// i / F (neighbouring threads read neighbouring bytes of one sample), and the first feature's thread the label.
    /// </summary>
    public static void Gather(Index1D i, ArrayView<float> data, ArrayView<int> labels, ArrayView<int> order, int start,
        int features, ArrayView<float> x, ArrayView<int> y)
    {
        int r = i / features, f = i - r * features;
        int src = order[start + r];
        x[i] = data[(long)src * features + f];
        if (f == 0) y[r] = labels[src];
    }
}
