using Nabla.Compute;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// A command's compute context (--threads, --gemm) and its device (--device): begun at the command's start, disposed
/// at its end. The CUDA backend is opened early, so that compiling its kernels overlaps with loading the data; the
/// run then decides with it where to train (<see cref="TrainingRun.UseDevice"/>).
/// </summary>
internal sealed class RunSetup : IDisposable
{
    private readonly ComputeContext _context;

    private RunSetup(ComputeContext context, DeviceChoice device, Cuda.CudaBackend? gpu) => (_context, Device, Gpu) = (context, device, gpu);

    /// <summary>The --device asked for.</summary>
    public DeviceChoice Device { get; }

    /// <summary>The CUDA backend to train on, or null for the CPU.</summary>
    public Cuda.CudaBackend? Gpu { get; }

    /// <summary>Whether "cuda" means the simulator: NABLA_CUDA_SIMULATOR=1, or a caller's context (a test's) that simulates.</summary>
    public static bool Simulating => ComputeContext.Current.SimulateCuda || Environment.GetEnvironmentVariable("NABLA_CUDA_SIMULATOR") == "1";

    /// <summary>
    /// Begins the context of --threads and --gemm and resolves --device. Prints "Using device: cpu" as the textbook
    /// does; a CUDA choice is announced by <see cref="Accelerate"/>. NABLA_CUDA_SIMULATOR=1 (or a caller's context that
    /// simulates) makes "cuda" ILGPU's CPU simulator: slow, for small data only.
    /// </summary>
    /// <exception cref="UsageException">--device cuda where no CUDA GPU is usable; the message says why.</exception>
    public static RunSetup Start(int threads, DeviceChoice device, string gemm, TextWriter output)
    {
        bool simulate = Simulating;
        var provider = gemm == "openblas" ? GemmProvider.OpenBlas : GemmProvider.Managed;
        if (provider == GemmProvider.OpenBlas)
        {
            if (!Tensors.Kernels.OpenBlas.TryLoad(out string? error)) throw new IOException("--gemm openblas: " + error);
            Tensors.Kernels.OpenBlas.SetThreads(threads);
            output.WriteLine("GEMM: OpenBLAS (cblas_sgemm)");
        }
        var context = ComputeContext.Begin(new ComputeSettings { Threads = threads, Gemm = provider, SimulateCuda = simulate });
        try
        {
            return new RunSetup(context, device, OpenDevice(device, simulate, output));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static Cuda.CudaBackend? OpenDevice(DeviceChoice device, bool simulate, TextWriter output)
    {
        if (device.IsCpu)
        {
            output.WriteLine("Using device: cpu");
            return null;
        }
        if (simulate) return Cuda.CudaBackend.OpenSimulator();
        if (!Cuda.CudaBackend.TryOpen(device.CudaIndex, out var gpu, out string reason))
        {
            if (!device.IsAuto) throw new UsageException($"--device {device}: {reason}. Use --device cpu (or auto).");
            output.WriteLine($"Using device: cpu ({reason})");
            return null;
        }
        gpu!.PrecompileTrainingKernels(); // overlaps PTX compilation with loading the data
        return gpu;
    }

    /// <summary>
    /// Moves <paramref name="run"/>'s epochs onto the GPU (when one was opened) and says so. With --device auto, a
    /// model or loss the CUDA trainer cannot run stays on the CPU, with the reason printed.
    /// </summary>
    /// <exception cref="UsageException">--device cuda was asked for explicitly and the run cannot train there.</exception>
    public void Accelerate(TrainingRun run, TextWriter output)
    {
        if (Gpu is null) return;
        string? fellBack;
        try
        {
            fellBack = run.UseDevice(Gpu, required: !Device.IsAuto);
        }
        catch (NotSupportedException e)
        {
            throw new UsageException($"--device {Device}: {e.Message}");
        }
        output.WriteLine(fellBack is null ? $"Using device: {Gpu.Description}" : $"Using device: cpu (CUDA cannot run this model: {fellBack})");
    }

    /// <summary>Seconds the GPU engine spent making datasets resident (0 on the CPU).</summary>
    public static double UploadSeconds(TrainingRun run) =>
        run.Trainer.Accelerator is Cuda.Training.CudaAccelerator gpu ? gpu.DataUploadSeconds : 0;

    /// <summary>Closes the GPU, then ends the context (restoring the caller's) and stops its threads.</summary>
    public void Dispose()
    {
        Gpu?.Dispose();
        _context.Dispose();
    }
}
