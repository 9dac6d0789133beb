using System.Diagnostics;
using System.Runtime.CompilerServices;
using Nabla.Data;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Training;

namespace Nabla.Cuda.Training;

/// <summary>
/// A CUDA device in the <see cref="Trainer"/>'s one loop (<c>trainer.Accelerator = …</c>): each dataset a loader
/// brings is made resident once; each epoch uploads the host parameters and optimizer state, queues every batch on
/// the device (<see cref="CudaTrainer"/>) without waiting, and copies the state back at the end — a few hundred
/// kilobytes for the textbook's model, once per epoch.
/// </summary>
public sealed class CudaAccelerator : ITrainingEngine, IDisposable
{
    private readonly CudaBackend _gpu;
    private readonly CudaTrainer _trainer;
    private readonly ConditionalWeakTable<IDataset, DeviceDataset> _resident = [];
    private readonly List<DeviceDataset> _owned = [];
    private DeviceDataset? _data; // the running pass's dataset
    private readonly TablePreprocessor? _preprocessor; // a table model's first layer, applied on the host as data becomes resident

    /// <summary>Prepares the device side of <paramref name="model"/> and <paramref name="optimizer"/>.</summary>
    /// <exception cref="NotSupportedException">The model has a layer the CUDA trainer cannot run; the message names it.</exception>
    public CudaAccelerator(CudaBackend gpu, Sequential model, Optimizer optimizer, int inputFeatures, int batchSize, int evalBatch = 1_000)
    {
        _gpu = gpu;
        // A table model's preprocessing (gaps, scaling, one-hot) is data preparation: it is applied once, on the host,
        // as each dataset is copied to the device, and the device runs the rest of the model (the same parameters).
        (_preprocessor, model) = model.SplitPreprocessing();
        if (_preprocessor is not null) inputFeatures = _preprocessor.OutputWidth;
        _trainer = new CudaTrainer(gpu, model, optimizer, inputFeatures, Math.Max(batchSize, evalBatch));
    }

    /// <inheritdoc/>
    public string Description => _gpu.Description;

    /// <summary>Seconds spent making datasets resident (host conversion and copy), once per dataset.</summary>
    public double DataUploadSeconds { get; private set; }

    /// <summary>The device engine.</summary>
    public CudaTrainer Engine => _trainer;

    /// <inheritdoc/>
    /// <remarks>The one-time upload is counted apart (<see cref="DataUploadSeconds"/>), as PyTorch's preloading is.</remarks>
    /// <exception cref="NotSupportedException">The dataset has numeric targets: the CUDA step trains softmax + cross-entropy only.</exception>
    public void Prepare(DataLoader loader, Nabla.Losses.Loss loss)
    {
        if (Refuses(loss, loader.Dataset) is { } why) throw new NotSupportedException($"The CUDA engine {why}. Train it on the CPU (leave Trainer.Accelerator null).");
        Resident(loader.Dataset);
    }

    /// <summary>
    /// Why the CUDA engine cannot train with <paramref name="loss"/> (on <paramref name="data"/>, if given), or null
    /// when it can: its step fuses softmax with plain cross-entropy (dℓ/dlogits = ŷ − y), so any other loss is refused,
    /// never replaced.
    /// </summary>
    public static string? Refuses(Nabla.Losses.Loss loss, IDataset? data = null)
    {
        if (data is { Targets: > 0 }) return "trains classification (softmax + cross-entropy) only, not a regression";
        return loss is Nabla.Losses.CrossEntropyLoss { Weight: null, LabelSmoothing: 0 } ? null
            : $"trains with plain cross-entropy (no class weights, no label smoothing) only; the trainer's loss is {Describe(loss)}";
    }

    private static string Describe(Nabla.Losses.Loss loss) => loss switch
    {
        Nabla.Losses.CrossEntropyLoss { Weight: not null } => "cross-entropy with class weights",
        Nabla.Losses.CrossEntropyLoss => "cross-entropy with label smoothing",
        _ => loss.GetType().Name,
    };

    /// <inheritdoc/>
    public void BeginEpoch(DataLoader loader, ReadOnlySpan<int> order, Optimizer optimizer, float maxGradNorm, int epoch)
    {
        _data = Resident(loader.Dataset);
        if (!ReferenceEquals(_trainer.Optimizer, optimizer)) _trainer.Optimizer = optimizer;
        _trainer.MaxGradNorm = maxGradNorm;
        _trainer.UploadAll(); // the host state may have changed between epochs (a restore, early stopping)
        _trainer.BeginEpoch(_data, order, loader.BatchSize);
    }

    /// <inheritdoc/>
    public StepOutcome Step(DataLoader loader, int epoch, int batch)
    {
        _trainer.Step(_data!, epoch, batch, batch * loader.BatchSize, loader.BatchSizeAt(batch));
        return StepOutcome.Deferred;
    }

    /// <inheritdoc/>
    public PassTotals EndEpoch()
    {
        var totals = _trainer.EndEpoch();
        _trainer.SyncToHost();
        return totals;
    }

    /// <inheritdoc/>
    public void BeginEvaluation(DataLoader loader, ReadOnlySpan<int> order)
    {
        _data = Resident(loader.Dataset);
        _trainer.UploadModel();
        _trainer.BeginEvaluation(_data, order);
    }

    /// <inheritdoc/>
    public StepOutcome Evaluate(DataLoader loader, int batch)
    {
        _trainer.Evaluate(_data!, batch * loader.BatchSize, loader.BatchSizeAt(batch));
        return StepOutcome.Deferred;
    }

    /// <inheritdoc/>
    public PassTotals EndEvaluation() => _trainer.EndEvaluation();

    private DeviceDataset Resident(IDataset dataset)
    {
        if (_resident.TryGetValue(dataset, out var d)) return d;
        long start = Stopwatch.GetTimestamp();
        d = new DeviceDataset(_gpu, _preprocessor is null ? dataset : new EncodedDataset(dataset, _preprocessor));
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
