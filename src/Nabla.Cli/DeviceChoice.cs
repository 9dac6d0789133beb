namespace Nabla.Cli;

/// <summary>The <c>--device</c> value, parsed once: <c>auto</c>, or a fixed device (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>).</summary>
/// <param name="Fixed">The device asked for; null for auto (CUDA when present, else the CPU).</param>
internal readonly record struct DeviceChoice(Devices.Device? Fixed)
{
    /// <summary>CUDA when present, else the CPU.</summary>
    public static DeviceChoice Auto => new(null);

    /// <summary>Whether the choice is left to <c>auto</c>.</summary>
    public bool IsAuto => Fixed is null;

    /// <summary>Whether the CPU was asked for.</summary>
    public bool IsCpu => Fixed is { IsCpu: true };

    /// <summary>The CUDA device index to open (0 for auto).</summary>
    public int CudaIndex => Fixed?.Index ?? 0;

    /// <summary>Parses <c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    /// <exception cref="FormatException">Anything else.</exception>
    public static DeviceChoice Parse(string text) =>
        text.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase) ? Auto : new(Devices.Device.Parse(text));

    /// <summary>As written on the command line.</summary>
    public override string ToString() => Fixed?.ToString() ?? "auto";
}
