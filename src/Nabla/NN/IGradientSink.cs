using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.NN;

/// <summary>
/// Told by the backward pass when a parameter's gradient is final, so that work on it can start at once: the fused
/// optimizer step is one sink (it updates the parameter while its gradient is still in cache), and a gradient-norm
/// recorder or a gradient exchange between processes can be others. Declared here, below the optimizers, so that the
/// layers announce their gradients without knowing who listens.
/// </summary>
/// <remarks>
/// The layer that computes a gradient calls <see cref="BeginRows"/> before its gradient GEMM (a weight matrix,
/// row by row) and hands the returned observer to it, or <see cref="GradientReady"/> once the whole gradient is final
/// (a bias, a layer without row blocks). A sink must not read or write a parameter's gradient before it is announced.
/// </remarks>
internal interface IGradientSink
{
    /// <summary>
    /// <paramref name="p"/>'s gradient is about to be computed in rows of <paramref name="rowLength"/> elements; returns
    /// the observer to tell as rows become final (see <see cref="IRowsObserver"/>), or null if the sink has no use for p.
    /// </summary>
    IRowsObserver? BeginRows(Tensor p, int rowLength);

    /// <summary>All of <paramref name="p"/>'s gradient is final (called on the backward pass's thread).</summary>
    void GradientReady(Tensor p);
}
