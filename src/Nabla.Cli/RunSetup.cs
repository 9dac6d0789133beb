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
    public static RunSetup Start(ThreadChoice threads, DeviceChoice device, string gemm, TextWriter output)
    {
        bool simulate = Simulating;
        var provider = gemm == "openblas" ? GemmProvider.OpenBlas : GemmProvider.Managed;
        if (provider == GemmProvider.OpenBlas)
        {
            if (!Tensors.Kernels.OpenBlas.TryLoad(out string? error)) throw new IOException("--gemm openblas: " + error);
            Tensors.Kernels.OpenBlas.SetThreads(threads.Count);
            output.WriteLine("GEMM: OpenBLAS (cblas_sgemm)");
        }
        // auto with OpenBLAS: its own threads are set once; the tuner would only change Nabla's around it.
        var context = ComputeContext.Begin(new ComputeSettings
        {
            Threads = threads.Count, AdaptThreads = threads.IsAuto && provider == GemmProvider.Managed, Gemm = provider, SimulateCuda = simulate,
        });
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

    /// <summary>
    /// The --json fields of the thread count: <c>threads</c>, the count in use at the end; with auto, also
    /// <c>threads_auto</c> and <c>thread_changes</c>, every choice the run made (step, count).
    /// </summary>
    public static void AddThreads(System.Text.Json.Nodes.JsonObject json)
    {
        var context = ComputeContext.Current;
        json["threads"] = context.Pool.ActiveThreads;
        if (context.Tuner is not { } tuner) return;
        json["threads_auto"] = true;
        json["thread_changes"] = new System.Text.Json.Nodes.JsonArray([.. tuner.Changes.Select(c =>
            (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["step"] = c.Step, ["threads"] = c.Threads })]);
        json["thread_switches"] = tuner.Switches;
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
