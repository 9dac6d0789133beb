using System.Collections.Concurrent;

namespace Nabla.Devices;

/// <summary>
/// Which backend serves each device. The core knows only the CPU; a backend package (<c>Nabla.Cuda</c>) registers
/// itself when opened, so that <see cref="Tensors.Tensor.To(Device)"/> can reach it. Each compute context has its own
/// registry (<c>ComputeContext.Backends</c>): a backend opened inside a run is not seen by another run or test.
/// </summary>
public sealed class BackendRegistry
{
    private readonly ConcurrentDictionary<Device, IDeviceBackend> _registered = new();

    /// <summary>Makes <paramref name="backend"/> the one that serves its device (replacing any earlier one).</summary>
    public void Register(IDeviceBackend backend) => _registered[backend.Device] = backend;

    /// <summary>Removes the backend of <paramref name="device"/>, if it is still <paramref name="backend"/>.</summary>
    public void Unregister(Device device, IDeviceBackend backend) =>
        _registered.TryRemove(new KeyValuePair<Device, IDeviceBackend>(device, backend));

    /// <summary>The backend serving <paramref name="device"/>, if one is registered.</summary>
    public bool TryGet(Device device, out IDeviceBackend backend) => _registered.TryGetValue(device, out backend!);

    /// <summary>The backend serving <paramref name="device"/>.</summary>
    /// <exception cref="InvalidOperationException">None is registered; the message says how to get one.</exception>
    public IDeviceBackend Get(Device device) =>
        TryGet(device, out var b) ? b
        : throw new InvalidOperationException(
            $"No backend serves {device}: open one first (Nabla.Cuda's CudaBackend.Open()), or keep the tensor on cpu.");
}
