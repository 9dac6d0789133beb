using System.Collections.Concurrent;

namespace Nabla.Devices;

/// <summary>
/// The registry of device backends. The core knows only the CPU; a backend package (<c>Nabla.Cuda</c>) registers
/// itself here when opened, so that <see cref="Tensors.Tensor.To(Device)"/> can reach it.
/// </summary>
public static class Backends
{
    private static readonly ConcurrentDictionary<Device, IDeviceBackend> Registered = new();

    /// <summary>Makes <paramref name="backend"/> the one that serves its device (replacing any earlier one).</summary>
    public static void Register(IDeviceBackend backend) => Registered[backend.Device] = backend;

    /// <summary>Removes the backend of <paramref name="device"/>, if it is still <paramref name="backend"/>.</summary>
    public static void Unregister(Device device, IDeviceBackend backend) =>
        Registered.TryRemove(new KeyValuePair<Device, IDeviceBackend>(device, backend));

    /// <summary>The backend serving <paramref name="device"/>, if one is registered.</summary>
    public static bool TryGet(Device device, out IDeviceBackend backend) => Registered.TryGetValue(device, out backend!);

    /// <summary>The backend serving <paramref name="device"/>.</summary>
    /// <exception cref="InvalidOperationException">None is registered; the message says how to get one.</exception>
    public static IDeviceBackend Get(Device device) =>
        TryGet(device, out var b) ? b
        : throw new InvalidOperationException(
            $"No backend serves {device}: open one first (Nabla.Cuda's CudaBackend.Open()), or keep the tensor on cpu.");
}
