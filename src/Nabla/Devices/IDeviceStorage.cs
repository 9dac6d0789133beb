namespace Nabla.Devices;

/// <summary>
/// A block of float32 memory owned by a device backend. Tensors on that device view it; only
/// <see cref="Upload"/> and <see cref="Download"/> move data across, and only when code asks.
/// </summary>
public interface IDeviceStorage : IDisposable
{
    /// <summary>The backend that owns the memory and computes on it.</summary>
    IDeviceBackend Backend { get; }

    /// <summary>Length in floats.</summary>
    int Length { get; }

    /// <summary>Copies <paramref name="source"/> from the host to floats [offset, offset + source.Length).</summary>
    void Upload(ReadOnlySpan<float> source, int offset);

    /// <summary>Copies floats [offset, offset + destination.Length) to the host (waits for pending work).</summary>
    void Download(Span<float> destination, int offset);
}

/// <summary>A position in a device storage: where an operand starts.</summary>
public readonly record struct DeviceSlice(IDeviceStorage Storage, int Offset);
