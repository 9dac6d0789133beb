using ILGPU;
using ILGPU.Runtime;
using Nabla.Devices;

namespace Nabla.Cuda;

/// <summary>Device memory of a <see cref="CudaBackend"/>: one ILGPU buffer of floats.</summary>
internal sealed class CudaStorage(CudaBackend backend, MemoryBuffer1D<float, Stride1D.Dense> buffer) : IDeviceStorage
{
    public IDeviceBackend Backend => backend;

    public int Length => (int)buffer.Length;

    /// <summary>The whole buffer as a kernel argument.</summary>
    public ArrayView<float> View => buffer.View;

    /// <summary>Floats from <paramref name="offset"/> on.</summary>
    public ArrayView<float> At(int offset) => View.SubView(offset, Length - offset);

    public void Upload(ReadOnlySpan<float> source, int offset) => View.SubView(offset, source.Length).CopyFromCPU(source);

    public void Download(Span<float> destination, int offset) => View.SubView(offset, destination.Length).CopyToCPU(destination);

    public void Dispose() => buffer.Dispose();
}
