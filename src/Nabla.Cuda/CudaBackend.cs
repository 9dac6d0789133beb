using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Nabla.Compute;
using Nabla.Cuda.Kernels;
using Nabla.Devices;
using Device = Nabla.Devices.Device;
using Nabla.Tensors.Kernels;

namespace Nabla.Cuda;

/// <summary>
/// The CUDA backend: an ILGPU accelerator, its kernels, and cuBLAS for large products (a tiled ILGPU GEMM when
/// cuBLAS cannot be loaded). <see cref="Open"/> takes a real GPU; <see cref="OpenSimulator"/> runs the very same
/// kernels on ILGPU's CPU accelerator, which is how the tests check them on machines without a GPU.
/// Opening registers the backend, so <c>tensor.To(Device.Cuda())</c> reaches it; disposing unregisters it.
/// </summary>
public sealed class CudaBackend : IDeviceBackend, Nabla.Training.IAcceleratorFactory, IDisposable
{
    private readonly Context _context;
    private readonly BackendRegistry _registry; // the registry of the compute context it was opened in
    private readonly CuBlas? _blas;

    private CudaBackend(Context context, Accelerator accelerator, int index, bool simulated)
    {
        _context = context;
        Accelerator = accelerator;
        Device = Device.Cuda(index);
        IsSimulator = simulated;
        Kernels = new DeviceKernels(accelerator);
        if (accelerator is CudaAccelerator cuda)
        {
            try
            {
                CuBlasLibrary.Install();
                // Host pointer mode: alpha and beta are plain floats. The accelerator's default stream: products and
                // our kernels are then ordered with no synchronization between them.
                _blas = new CuBlas(cuda) { PointerMode = CuBlasPointerMode.Host, Stream = (CudaStream)cuda.DefaultStream };
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or CuBlasException or TypeInitializationException)
            {
                BlasUnavailableReason = e.Message;
            }
        }
        else BlasUnavailableReason = "not a CUDA accelerator";
        Description = simulated
            ? $"{Device} simulated on ILGPU's CPU accelerator (tiled GEMM)"
            : $"{Device} {accelerator.Name}, {(_blas is null ? "tiled ILGPU GEMM (cuBLAS: " + BlasUnavailableReason + ")" : "cuBLAS")}";
        _registry = ComputeContext.Current.Backends;
        _registry.Register(this);
    }

    /// <inheritdoc/>
    public Device Device { get; }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>True when the kernels run on ILGPU's CPU accelerator (tests), not a GPU.</summary>
    public bool IsSimulator { get; }

    /// <summary>True when products go through cuBLAS.</summary>
    public bool HasCuBlas => _blas is not null;

    /// <summary>Why cuBLAS is not used, when it is not.</summary>
    public string? BlasUnavailableReason { get; }

    /// <summary>The ILGPU accelerator.</summary>
    public Accelerator Accelerator { get; }

    internal DeviceKernels Kernels { get; }

    /// <summary>Whether a CUDA GPU is present and usable; <paramref name="reason"/> says why not.</summary>
    public static bool IsAvailable(out string reason)
    {
        using var context = CudaContext(out reason);
        if (context is null) return false;
        if (context.GetCudaDevices().Count > 0) return true;
        reason = NoDevice;
        return false;
    }

    private const string NoDevice = "no CUDA device was found (no NVIDIA driver, or no GPU)";

    /// <summary>ILGPU's context over the CUDA devices, or null with the reason (no driver, a driver that fails to load).</summary>
    private static Context? CudaContext(out string reason)
    {
        reason = "";
        // Cheap first: without the driver library there is no GPU to find, and starting ILGPU costs ~0.15 s.
        if (!DriverPresent())
        {
            reason = "no CUDA device was found (no NVIDIA driver library, libcuda)";
            return null;
        }
        try
        {
            return Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException or CudaException)
        {
            reason = "the CUDA driver could not be loaded: " + e.Message;
            return null;
        }
    }

    private static bool DriverPresent()
    {
        foreach (var name in OperatingSystem.IsWindows() ? new[] { "nvcuda.dll" } : ["libcuda.so.1", "libcuda.so"])
            if (System.Runtime.InteropServices.NativeLibrary.TryLoad(name, out var handle))
            {
                System.Runtime.InteropServices.NativeLibrary.Free(handle);
                return true;
            }
        return false;
    }

    /// <summary>
    /// Opens CUDA device <paramref name="index"/>, registered as <c>cuda:index</c> (or as
    /// <c>cuda:<paramref name="registerAs"/></c>, for tests that hold a simulator at cuda:0 meanwhile).
    /// </summary>
    /// <exception cref="InvalidOperationException">No such device; the message says why.</exception>
    public static CudaBackend Open(int index = 0, int? registerAs = null) =>
        TryOpen(index, out var backend, out string reason, registerAs) ? backend! : throw new InvalidOperationException(reason);

    /// <summary>
    /// Opens CUDA device <paramref name="index"/> when there is one, creating ILGPU's context once (what
    /// <c>--device auto</c> does: probing first and opening after would start CUDA twice).
    /// </summary>
    public static bool TryOpen(int index, out CudaBackend? backend, out string reason, int? registerAs = null)
    {
        backend = null;
        var context = CudaContext(out reason);
        if (context is null) return false;
        var devices = context.GetCudaDevices();
        if (index < 0 || index >= devices.Count)
        {
            context.Dispose();
            reason = devices.Count == 0 ? NoDevice
                : $"there is no cuda:{index}; this machine has {devices.Count} CUDA device(s)";
            return false;
        }
        backend = new CudaBackend(context, devices[index].CreateCudaAccelerator(context), registerAs ?? index, simulated: false);
        reason = "";
        return true;
    }

    /// <summary>The same backend on ILGPU's CPU accelerator, registered as <c>cuda:<paramref name="index"/></c>.</summary>
    public static CudaBackend OpenSimulator(int index = 0)
    {
        var context = Context.Create(b => b.CPU().EnableAlgorithms().Optimize(OptimizationLevel.O1));
        return new CudaBackend(context, context.CreateCPUAccelerator(0), index, simulated: true);
    }

    /// <inheritdoc/>
    public IDeviceStorage Allocate(int length)
    {
        var buffer = Accelerator.Allocate1D<float>(Math.Max(length, 1));
        buffer.MemSetToZero();
        return new CudaStorage(this, buffer);
    }

    /// <summary>Device memory for other element types (labels, orders, statistics).</summary>
    internal MemoryBuffer1D<T, Stride1D.Dense> AllocateRaw<T>(int length) where T : unmanaged
    {
        var buffer = Accelerator.Allocate1D<T>(Math.Max(length, 1));
        buffer.MemSetToZero();
        return buffer;
    }

    private Task? _precompile;

    /// <summary>
    /// Starts compiling the training kernels on a background thread (ILGPU compiles each to PTX at first use), so
    /// that the compilation overlaps with loading the data. Call <see cref="WaitForKernels"/> before launching.
    /// </summary>
    public void PrecompileTrainingKernels()
    {
        var k = Kernels;
        _precompile ??= Task.Run(() =>
        {
            _ = (k.LayerForward, k.LayerForwardLoss, k.LayerInput, k.LayerWeights, k.Update, k.Gather, k.SoftmaxCrossEntropy,
                k.BiasActivation, k.ActivationBackward, k.ColumnSum, k.Map);
        });
    }

    /// <summary>
    /// The CUDA engine for <paramref name="trainer"/> (waiting for <see cref="PrecompileTrainingKernels"/> first): a
    /// <see cref="NN.Sequential"/> of built-in layers trained with plain cross-entropy, or a clear refusal.
    /// </summary>
    /// <exception cref="NotSupportedException">The loss or a layer is one the CUDA trainer does not run; the message says which.</exception>
    public Nabla.Training.ITrainingEngine Create(Nabla.Training.Trainer trainer, int inputFeatures, int batchSize)
    {
        WaitForKernels();
        // The CUDA step fuses softmax and cross-entropy (ŷ − y); other losses train on the CPU.
        if (Training.CudaAccelerator.Refuses(trainer.Loss) is { } why) throw new NotSupportedException($"it {why}");
        var model = trainer.Model as NN.Sequential
            ?? throw new NotSupportedException($"{trainer.Model.GetType().Name} is not a Sequential of built-in layers.");
        return new Training.CudaAccelerator(this, model, trainer.Optimizer, inputFeatures, batchSize);
    }

    /// <summary>Waits for <see cref="PrecompileTrainingKernels"/>, if it was started.</summary>
    public void WaitForKernels() => _precompile?.GetAwaiter().GetResult();

    /// <summary>Waits for everything launched so far.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <inheritdoc/>
    public void MatMul(bool transA, bool transB, int m, int n, int k, DeviceSlice a, int lda, DeviceSlice b, int ldb, DeviceSlice c, int ldc) =>
        Gemm(transA, transB, m, n, k, View(a), lda, View(b), ldb, View(c), ldc);

    /// <summary>Row-major <c>C = op(A)·op(B)</c> on views: cuBLAS when loaded, else the tiled kernel.</summary>
    internal void Gemm(bool transA, bool transB, int m, int n, int k, ArrayView<float> a, int lda, ArrayView<float> b, int ldb, ArrayView<float> c, int ldc)
    {
        if (m == 0 || n == 0) return;
        if (_blas is not null)
        {
            // cuBLAS is column-major: the row-major C is Cᵀ there, and Cᵀ = op(B)ᵀ·op(A)ᵀ, with each row-major
            // buffer already its own transpose — so swap the operands and keep the flags.
            _blas.Gemm(transB ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose,
                transA ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose,
                n, m, k, 1f, b, ldb, a, lda, 0f, c, ldc);
            return;
        }
        int t = GemmKernels.TileFor(Accelerator.MaxNumThreadsPerGroup);
        var grid = new Index2D((n + t - 1) / t, (m + t - 1) / t);
        Kernels.TiledGemm(new KernelConfig(grid, new Index2D(t, t)), a, lda, b, ldb, c, ldc, m, n, k, transA ? 1 : 0, transB ? 1 : 0);
    }

    /// <inheritdoc/>
    public void Map(UnaryFunction f, DeviceSlice x, DeviceSlice y, int n)
    {
        if (n == 0) return;
        Kernels.Map(n, View(x), View(y), (int)f); // the kernels' activation codes are UnaryFunction's values
    }

    /// <inheritdoc/>
    public void Combine(BinaryOp op, DeviceSlice a, int aLength, DeviceSlice b, int bLength, DeviceSlice y, int n)
    {
        if (n == 0) return;
        Kernels.Combine(n, View(a), aLength, View(b), bLength, View(y), (int)op);
    }

    /// <inheritdoc/>
    public void SoftmaxRows(DeviceSlice x, DeviceSlice y, int rows, int cols, bool log)
    {
        if (rows == 0) return;
        Kernels.SoftmaxRows(rows, View(x), View(y), cols, log ? 1 : 0);
    }

    /// <inheritdoc/>
    public void Sum(DeviceSlice x, int n, DeviceSlice y) => Sum(View(x), n, View(y));

    internal void Sum(ArrayView<float> x, int n, ArrayView<float> y) =>
        Kernels.Sum(new KernelConfig(1, Kernels.SumGroupSize), x, n, y);

    private ArrayView<float> View(DeviceSlice s)
    {
        if (s.Storage is not CudaStorage storage || !ReferenceEquals(storage.Backend, this))
            throw new InvalidOperationException($"The operand's memory belongs to {s.Storage.Backend.Device}'s other backend, not to this {Device}.");
        return storage.At(s.Offset);
    }

    /// <summary>Unregisters the backend and releases cuBLAS, the accelerator and the context.</summary>
    public void Dispose()
    {
        _registry.Unregister(Device, this);
        _blas?.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }
}
