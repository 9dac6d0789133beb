using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nabla.Devices;

namespace Nabla.Compute;

/// <summary>
/// The settings a computation runs with, chosen once by whoever starts it (a command, a test, a library user):
/// how many threads, which matrix multiply, how wide the SIMD lanes may be, and whether "cuda" means the simulator.
/// </summary>
public sealed record ComputeSettings
{
    /// <summary>Threads for the kernels, the caller included (results are the same bits for any count).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>The matrix multiply every GEMM uses.</summary>
    public GemmProvider Gemm { get; init; } = GemmProvider.Managed;

    /// <summary>
    /// The most floats per SIMD lane the kernels may use: 16 (AVX-512), 8 (AVX2) or 1 (scalar); the CPU may allow
    /// fewer (<see cref="ComputeContext.VectorWidth"/>). Lower it to hold a wide kernel to a narrow one's bits.
    /// </summary>
    public int MaxVectorWidth { get; init; } = 16;

    /// <summary>Whether opening a CUDA device opens ILGPU's CPU simulator instead (slow: for tests on small data).</summary>
    public bool SimulateCuda { get; init; }

    /// <summary>
    /// <c>--threads auto</c>: training times its own steps with 1 to <see cref="Threads"/> threads and keeps the
    /// fastest, re-checking now and then (<see cref="ThreadTuner"/>). Results are the same bits whichever it picks.
    /// </summary>
    public bool AdaptThreads { get; init; }

    /// <summary>How the tuner measures and decides, with <see cref="AdaptThreads"/> (null: the defaults).</summary>
    public ThreadTunerPolicy? TunerPolicy { get; init; }
}

/// <summary>
/// The object that holds what would otherwise be globals: the worker pool, the GEMM provider, the SIMD width and the
/// device backends. A run or a test creates one with <see cref="Begin"/>, which makes it current for the code it calls
/// (the current context flows with the call, as <see cref="AsyncLocal{T}"/> does, so parallel tests do not see each
/// other's), and disposes it, which restores the one before and stops its threads. Code that never begins one gets
/// <see cref="Process"/>: every core, Nabla's GEMM, the widest lanes.
/// </summary>
/// <remarks>
/// Kernels read <see cref="Current"/> on the calling thread, once per operation, and hand what they need to the
/// worker threads: a worker does not see the caller's context.
/// </remarks>
public sealed class ComputeContext : IDisposable
{
    private static readonly AsyncLocal<ComputeContext?> s_current = new();
    private static readonly Lazy<ComputeContext> s_process = new(() => new ComputeContext(new ComputeSettings()));
    private readonly ComputeContext? _previous;
    private readonly bool _entered;
    private bool _disposed;

    private ComputeContext(ComputeSettings settings, ComputeContext? previous = null, bool entered = false)
    {
        Settings = settings;
        Pool = new WorkerPool(settings.Threads);
        VectorWidth = HardwareWidth(settings.MaxVectorWidth);
        Tuner = settings.AdaptThreads && settings.Threads > 1 ? new ThreadTuner(Pool, settings.TunerPolicy) : null;
        (_previous, _entered) = (previous, entered);
    }

    /// <summary>Creates a context with <paramref name="settings"/> and makes it current until it is disposed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message says which.</exception>
    public static ComputeContext Begin(ComputeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.MaxVectorWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), $"MaxVectorWidth must be ≥ 1; got {settings.MaxVectorWidth}.");
        var context = new ComputeContext(settings, s_current.Value, entered: true);
        s_current.Value = context;
        return context;
    }

    /// <summary>The context of the running code: the innermost one begun and not yet disposed, else <see cref="Process"/>.</summary>
    public static ComputeContext Current => s_current.Value ?? s_process.Value;

    /// <summary>The context of code that begins none (created at first use, never disposed).</summary>
    public static ComputeContext Process => s_process.Value;

    /// <summary>The settings it was created with.</summary>
    public ComputeSettings Settings { get; }

    /// <summary>The worker threads (<see cref="ComputeSettings.Threads"/> of them, the caller included).</summary>
    public WorkerPool Pool { get; }

    /// <summary>With <see cref="ComputeSettings.AdaptThreads"/> (and more than one thread): what picks the count in use.</summary>
    public ThreadTuner? Tuner { get; }

    /// <summary>The matrix multiply in use.</summary>
    public GemmProvider Gemm => Settings.Gemm;

    /// <summary>The floats per SIMD lane the kernels use: the widest of 16, 8 and 1 that the settings and the CPU allow.</summary>
    public int VectorWidth { get; }

    /// <summary>Whether "cuda" opens the simulator (<see cref="ComputeSettings.SimulateCuda"/>).</summary>
    public bool SimulateCuda => Settings.SimulateCuda;

    /// <summary>The device backends opened in this context.</summary>
    public BackendRegistry Backends { get; } = new();

    private static int HardwareWidth(int max)
    {
        if (max >= 16 && Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512DQ.IsSupported) return 16;
        if (max >= 8 && Vector256.IsHardwareAccelerated && Fma.IsSupported) return 8;
        return 1;
    }

    /// <summary>Restores the context that was current before <see cref="Begin"/> and stops this one's threads.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_entered && ReferenceEquals(s_current.Value, this)) s_current.Value = _previous;
        Pool.Dispose();
    }
}
