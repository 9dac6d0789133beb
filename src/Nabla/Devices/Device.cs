namespace Nabla.Devices;

/// <summary>The kinds of device a tensor can live on.</summary>
public enum DeviceType
{
    /// <summary>Host memory, computed by the managed kernels (the default).</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through the CUDA backend (<c>Nabla.Cuda</c>).</summary>
    Cuda,
}

/// <summary>
/// Where a tensor's data lives and who computes on it, as <c>torch.device</c>: <c>cpu</c>, <c>cuda</c>,
/// <c>cuda:1</c>. Data moves between devices only when asked (<see cref="Tensors.Tensor.To(Device)"/>).
/// </summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    /// <summary>The host.</summary>
    public static Device Cpu => new(DeviceType.Cpu);

    /// <summary>CUDA device <paramref name="index"/>.</summary>
    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>True for the host.</summary>
    public bool IsCpu => Type == DeviceType.Cpu;

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (PyTorch's spelling).</summary>
    /// <exception cref="FormatException">Anything else; the message lists what is accepted.</exception>
    public static Device Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda") return Cuda();
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out int i) && i >= 0) return Cuda(i);
        throw new FormatException($"'{text}' is not a device; use cpu, cuda or cuda:N.");
    }

    /// <summary>PyTorch's spelling: <c>cpu</c> or <c>cuda:N</c>.</summary>
    public override string ToString() => IsCpu ? "cpu" : $"cuda:{Index}";
}
