using ILGPU;
using ILGPU.Runtime;

namespace Nabla.Cuda;

/// <summary>ILGPU's 1-D buffers seen as plain contiguous views (what kernels and the copy helpers take).</summary>
internal static class BufferViews
{
    /// <summary>The whole buffer as an <see cref="ArrayView{T}"/>.</summary>
    public static ArrayView<T> AsArrayView<T>(this MemoryBuffer1D<T, Stride1D.Dense> buffer) where T : unmanaged => buffer.View;
}
