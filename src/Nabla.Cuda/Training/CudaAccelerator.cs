using System.Diagnostics;
using System.Runtime.CompilerServices;
using Nabla.Data;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Training;

namespace Nabla.Cuda.Training;

/// <summary>
/// Plugs a <see cref="CudaTrainer"/> into the host <see cref="Trainer"/> (<c>trainer.Accelerator = …</c>): each
/// dataset a loader brings is made resident once; each epoch uploads the host parameters and optimizer state,
/// trains on the device, and copies them back — a few hundred kilobytes for the textbook's model, once per epoch.
/// </summary>
public sealed class CudaAccelerator : ITrainingAccelerator, IDisposable
{
    private readonly CudaBackend _gpu;
    private readonly CudaTrainer _trainer;
    private readonly ConditionalWeakTable<IDataset, DeviceDataset> _resident = [];
    private readonly List<DeviceDataset> _owned = [];

    /// <summary>Prepares the device side of <paramref name="model"/> and <paramref name="optimizer"/>.</summary>
    /// <exception cref="NotSupportedException">The model has a layer the CUDA trainer cannot run; the message names it.</exception>
    public CudaAccelerator(CudaBackend gpu, Sequential model, Optimizer optimizer, int inputFeatures, int batchSize, int evalBatch = 1_000)
    {
        _gpu = gpu;
        _trainer = new CudaTrainer(gpu, model, optimizer, inputFeatures, Math.Max(batchSize, evalBatch));
    }

    /// <inheritdoc/>
    public string Description => _gpu.Description;

    /// <summary>Seconds spent making datasets resident (host conversion and copy), once per dataset.</summary>
    public double DataUploadSeconds { get; private set; }

    /// <summary>The device engine.</summary>
    public CudaTrainer Engine => _trainer;

    /// <inheritdoc/>
    public EpochMetrics TrainEpoch(DataLoader loader, Optimizer optimizer, float maxGradNorm, int epoch, int skipBatches, Action<int>? afterStep)
    {
        // The dataset's one-time upload is counted apart (DataUploadSeconds), as PyTorch's preloading is; the epoch's
        // time includes copying the host state up and back, which this design pays every epoch.
        var data = Resident(loader.Dataset);
        long start = Stopwatch.GetTimestamp();
        if (!ReferenceEquals(_trainer.Optimizer, optimizer)) _trainer.Optimizer = optimizer;
        _trainer.MaxGradNorm = maxGradNorm;
        _trainer.UploadAll();
        var metrics = _trainer.TrainEpoch(data, loader, afterStep, skipBatches, epoch);
        _trainer.SyncToHost();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return metrics with { Seconds = seconds, SamplesPerSecond = metrics.SamplesPerSecond * metrics.Seconds / seconds };
    }

    /// <inheritdoc/>
    public EvalResult Test(DataLoader loader)
    {
        var data = Resident(loader.Dataset);
        long start = Stopwatch.GetTimestamp();
        _trainer.UploadModel();
        var result = _trainer.Test(data);
        return result with { Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds };
    }

    private DeviceDataset Resident(IDataset dataset)
    {
        if (_resident.TryGetValue(dataset, out var d)) return d;
        long start = Stopwatch.GetTimestamp();
        d = new DeviceDataset(_gpu, dataset);
        DataUploadSeconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
        _resident.Add(dataset, d);
        _owned.Add(d);
        return d;
    }

    /// <summary>Releases the device engine and the resident datasets.</summary>
    public void Dispose()
    {
        _trainer.Dispose();
        foreach (var d in _owned) d.Dispose();
    }
}
