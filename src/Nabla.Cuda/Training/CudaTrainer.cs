using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using Nabla.Cuda.Kernels;
using Nabla.Data;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Cuda.Training;

/// <summary>
/// Trains an MLP (<c>Flatten?, (Linear, activation?)*, Linear</c> with cross-entropy) entirely on a CUDA device:
/// parameters, gradients and optimizer state live in flat device arenas, the dataset is resident
/// (<see cref="DeviceDataset"/>), and a step is a fixed handful of launches with no host synchronization — gather,
/// one fused kernel per layer forward, the fused softmax–cross-entropy–gradient, two fused kernels per layer
/// backward, one optimizer kernel. Narrow layers (either width ≤ <see cref="FusedWidth"/>) run GEMM-free kernels
/// with bias and activation fused in; wide ones use cuBLAS (or the tiled GEMM) plus a fused epilogue.
/// The host waits only at the end of an epoch or evaluation, for its loss and accuracy.
/// </summary>
/// <remarks>
/// The host <see cref="Sequential"/> and <see cref="Optimizer"/> stay the description of the run; call
/// <see cref="SyncToHost"/> to copy the trained parameters and optimizer state back before saving or evaluating on
/// the CPU. The shuffled order comes from the loader's sampler, so a CPU and a CUDA run see the same batches.
/// </remarks>
public sealed class CudaTrainer : IDisposable
{
    /// <summary>Layers with a side at most this wide run the GEMM-free fused kernels.</summary>
    public const int FusedWidth = 64;

    private readonly CudaBackend _gpu;
    private readonly DeviceLayer[] _layers;
    private readonly Dictionary<Tensor, int> _arena = new(ReferenceEqualityComparer.Instance);
    private readonly int _total;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _params, _grads, _normScratch, _normSq;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _x;              // the gathered input batch
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] _z, _dz;      // per layer: output, dℓ/d(pre-activation)
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _y;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _stats;
    private readonly double[] _hostStats = new double[2];
    private readonly Stopwatch _clock = new();
    private DeviceOptimizer _optimizer;

    private readonly record struct DeviceLayer(Linear Module, int In, int Out, int Act, int W, int B);

    /// <summary>Copies <paramref name="model"/>'s parameters and <paramref name="optimizer"/>'s state to the device.</summary>
    /// <exception cref="NotSupportedException">A layer, activation or optimizer has no CUDA kernel; the message names it.</exception>
    public CudaTrainer(CudaBackend gpu, Sequential model, Optimizer optimizer, int inputFeatures, int maxBatch)
    {
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), "The batch size must be at least 1.");
        _gpu = gpu;
        Model = model;
        MaxBatch = maxBatch;
        _layers = Plan(model, inputFeatures, _arena, out _total);
        _params = gpu.AllocateRaw<float>(_total);
        _grads = gpu.AllocateRaw<float>(_total);
        _normScratch = gpu.AllocateRaw<float>(_total);
        _normSq = gpu.AllocateRaw<float>(1);
        UploadModel();
        _x = gpu.AllocateRaw<float>(maxBatch * inputFeatures);
        _z = [.. _layers.Select(l => gpu.AllocateRaw<float>(maxBatch * l.Out))];
        _dz = [.. _layers.Select(l => gpu.AllocateRaw<float>(maxBatch * l.Out))];
        _y = gpu.AllocateRaw<int>(maxBatch);
        _stats = gpu.AllocateRaw<double>(2);
        _optimizer = new DeviceOptimizer(gpu, optimizer, _arena, _total);
    }

    /// <summary>The model; its host tensors are current after <see cref="SyncToHost"/>.</summary>
    public Sequential Model { get; }

    /// <summary>Largest batch the device buffers hold (evaluation runs in chunks of it).</summary>
    public int MaxBatch { get; }

    /// <summary>Epochs trained so far.</summary>
    public int EpochCount { get; private set; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>If positive, gradients are clipped to this 2-norm before each step (on the device, no host round trip).</summary>
    public float MaxGradNorm { get; set; }

    /// <summary>The host optimizer mirrored on the device; setting one (SGD → Adam, as the textbook does) uploads its state.</summary>
    public Optimizer Optimizer
    {
        get => _optimizer.Host;
        set
        {
            var next = new DeviceOptimizer(_gpu, value, _arena, _total);
            _optimizer.Dispose();
            _optimizer = next;
        }
    }

    /// <summary>Which layers run fused GEMM-free kernels (true) or GEMM + epilogue (false), in order.</summary>
    public IReadOnlyList<bool> FusedLayers => [.. _layers.Select(IsFused)];

    private static DeviceLayer[] Plan(Sequential model, int features, Dictionary<Tensor, int> arena, out int total)
    {
        var layers = new List<DeviceLayer>();
        total = 0;
        foreach (var m in model.Layers)
        {
            switch (m)
            {
                case Flatten:
                    break;
                case Dropout d when d.P == 0:
                    break;
                case Linear lin:
                    if (lin.InFeatures != features)
                        throw new ArgumentException($"Linear({lin.InFeatures}, {lin.OutFeatures}) receives {features} features.");
                    int w = total;
                    arena[lin.Weight] = w;
                    total += lin.Weight.Size;
                    int b = -1;
                    if (lin.Bias is not null) { b = total; arena[lin.Bias] = b; total += lin.Bias.Size; }
                    layers.Add(new DeviceLayer(lin, lin.InFeatures, lin.OutFeatures, Act.Identity, w, b));
                    features = lin.OutFeatures;
                    break;
                case Activation a when layers.Count > 0 && layers[^1].Act == Act.Identity:
                    int code = a switch { NN.Sigmoid => Act.Sigmoid, NN.Tanh => Act.Tanh, NN.Relu => Act.Relu, _ => -1 };
                    if (code < 0) throw new NotSupportedException($"{a} has no CUDA kernel; use Sigmoid, Tanh or ReLU, or --device cpu.");
                    layers[^1] = layers[^1] with { Act = code };
                    break;
                default:
                    throw new NotSupportedException(
                        $"{m} is not supported by the CUDA trainer (it runs Flatten, Linear, Sigmoid/Tanh/ReLU); train this model with --device cpu.");
            }
        }
        if (layers.Count == 0) throw new NotSupportedException("The model has no Linear layer.");
        if (layers[^1].Act != Act.Identity)
            throw new NotSupportedException("The CUDA trainer fuses softmax into the loss: the model must end with a Linear layer (logits).");
        return [.. layers];
    }

    private static bool IsFused(DeviceLayer l) => Math.Min(l.In, l.Out) <= FusedWidth;

    /// <summary>Copies the host model's parameters to the device (after loading weights on the host, say).</summary>
    public void UploadModel()
    {
        foreach (var (t, at) in _arena) _params.AsArrayView().SubView(at, t.Size).CopyFromCPU((ReadOnlySpan<float>)t.Data);
    }

    /// <summary>Copies the host model's parameters and the host optimizer's state to the device.</summary>
    public void UploadAll()
    {
        UploadModel();
        _optimizer.Upload();
    }

    /// <summary>Copies the parameters and the optimizer's state and step counts back into the host objects.</summary>
    public void SyncToHost()
    {
        foreach (var (t, at) in _arena) _params.AsArrayView().SubView(at, t.Size).CopyToCPU(t.Data);
        _optimizer.Download();
    }

    /// <summary>
    /// One pass over <paramref name="data"/> in the order of <paramref name="loader"/>'s sampler and with its batch
    /// size (the loader's own batches are not built). <paramref name="afterStep"/> gets the batches launched so far
    /// (for progress; it does not wait for the device). A resumed epoch skips its first <paramref name="skipBatches"/>.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The epoch's loss is NaN or infinite.</exception>
    public EpochMetrics TrainEpoch(DeviceDataset data, DataLoader loader, Action<int>? afterStep = null, int skipBatches = 0)
    {
        Check(data, loader.BatchSize);
        _clock.Restart();
        data.SetOrder(loader.Sampler);
        _stats.MemSetToZero();
        int batches = loader.DropLast ? data.Count / loader.BatchSize : (data.Count + loader.BatchSize - 1) / loader.BatchSize;
        int seen = 0;
        for (int b = skipBatches; b < batches; b++)
        {
            int size = Math.Min(loader.BatchSize, data.Count - b * loader.BatchSize);
            Step(data, b * loader.BatchSize, size);
            seen += size;
            afterStep?.Invoke(b + 1);
        }
        var (lossSum, correct) = ReadStats(); // the epoch's one wait for the device
        double seconds = _clock.Elapsed.TotalSeconds;
        EpochCount++;
        double loss = lossSum / Math.Max(seen, 1);
        if (!double.IsFinite(loss))
            throw new TrainingDivergedException(
                $"The loss became {loss} in epoch {EpochCount}: training diverged. Try a smaller learning rate (--lr) or gradient clipping.");
        return new EpochMetrics(EpochCount, loss, correct / Math.Max(seen, 1), seconds, seen / Math.Max(seconds, 1e-9), Optimizer.LearningRate, null);
    }

    /// <summary>The textbook's <c>test</c> on the device: mean loss and accuracy, no update.</summary>
    public EvalResult Test(DeviceDataset data)
    {
        Check(data, 1);
        _clock.Restart();
        data.SetOrder(new SequentialSampler());
        _stats.MemSetToZero();
        for (int start = 0; start < data.Count; start += MaxBatch)
        {
            int size = Math.Min(MaxBatch, data.Count - start);
            Gather(data, start, size);
            Forward(size);
            Loss(size, writeGrad: false);
        }
        var (lossSum, correct) = ReadStats();
        return new EvalResult(lossSum / Math.Max(data.Count, 1), (int)correct, data.Count, _clock.Elapsed.TotalSeconds);
    }

    private void Check(DeviceDataset data, int batch)
    {
        if (!ReferenceEquals(data.Backend, _gpu)) throw new ArgumentException("The dataset lives on another device.");
        if (data.Features != _layers[0].In) throw new ArgumentException($"The dataset has {data.Features} features; the model takes {_layers[0].In}.");
        if (data.Classes > _layers[^1].Out) throw new ArgumentException($"The dataset has {data.Classes} classes; the model outputs {_layers[^1].Out}.");
        if (batch > MaxBatch) throw new ArgumentException($"Batch {batch} exceeds the trainer's maximum of {MaxBatch}.");
    }

    private (double LossSum, double Correct) ReadStats()
    {
        _stats.AsArrayView().CopyToCPU(_hostStats.AsSpan());
        return (_hostStats[0], _hostStats[1]);
    }

    /// <summary>One training step on samples order[start, start+size) — launches only.</summary>
    private void Step(DeviceDataset data, int start, int size)
    {
        Gather(data, start, size);
        Forward(size);
        Loss(size, writeGrad: true);
        Backward(size);
        if (MaxGradNorm > 0) ClipGradients();
        _optimizer.Step(_params.AsArrayView(), _grads.AsArrayView());
        StepCount++;
    }

    private void Gather(DeviceDataset data, int start, int size) =>
        _gpu.Kernels.Gather(size * data.Features, data.FeatureView, data.LabelView, data.OrderView, start, data.Features, _x.AsArrayView(), _y.AsArrayView());

    private ArrayView<float> Input(int i) => i == 0 ? _x.AsArrayView() : _z[i - 1].AsArrayView();

    private ArrayView<float> Slice(int offset, int length) => offset < 0 ? _normScratch.AsArrayView().SubView(0, length) : _params.AsArrayView().SubView(offset, length);

    private ArrayView<float> GradSlice(int offset, int length) => offset < 0 ? _normScratch.AsArrayView().SubView(0, length) : _grads.AsArrayView().SubView(offset, length);

    /// <summary>The textbook's forward loop, <c>z_{i+1} = σ(W_i z_i + b_i)</c>, over the batch.</summary>
    private void Forward(int batch)
    {
        var k = _gpu.Kernels;
        if (_layers.Any(l => l.B < 0)) _normScratch.MemSetToZero(); // absent biases read zeros from the scratch
        for (int i = 0; i < _layers.Length; i++)
        {
            var l = _layers[i];
            var w = _params.AsArrayView().SubView(l.W, l.Out * l.In);
            var b = Slice(l.B, l.Out);
            var z = _z[i].AsArrayView();
            if (IsFused(l)) k.LinearForward(batch * l.Out, Input(i), w, b, z, l.In, l.Out, l.Act);
            else
            {
                _gpu.Gemm(false, true, batch, l.Out, l.In, Input(i), l.In, w, l.In, z, l.Out);
                k.BiasActivation(batch * l.Out, z, b, l.Out, l.Act);
            }
        }
    }

    private void Loss(int batch, bool writeGrad)
    {
        var last = _layers[^1];
        _gpu.Kernels.SoftmaxCrossEntropy(batch, _z[^1].AsArrayView(), _y.AsArrayView(), last.Out, _dz[^1].AsArrayView(), 1f / batch, writeGrad ? 1 : 0, _stats.AsArrayView());
    }

    /// <summary>
    /// The textbook's backward loop: from the loss adjoint <c>ŷ − y</c>, each layer's gradient
    /// <c>q_i = B_iᵀ p_{i+1}</c> and the adjoint <c>p_i = A_iᵀ p_{i+1}</c> through the previous activation.
    /// </summary>
    private void Backward(int batch)
    {
        var k = _gpu.Kernels;
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            var l = _layers[i];
            var dy = _dz[i].AsArrayView();
            var dw = _grads.AsArrayView().SubView(l.W, l.Out * l.In);
            var db = GradSlice(l.B, l.Out);
            var w = _params.AsArrayView().SubView(l.W, l.Out * l.In);
            bool fused = IsFused(l);
            if (fused) k.LinearBackwardWeights(l.Out * (l.In + 1), dy, Input(i), dw, db, batch, l.In, l.Out);
            else
            {
                _gpu.Gemm(true, false, l.Out, l.In, batch, dy, l.Out, Input(i), l.In, dw, l.In);
                k.ColumnSum(l.Out, dy, batch, l.Out, db);
            }
            if (i == 0) break; // nobody needs dℓ/dx
            var dx = _dz[i - 1].AsArrayView();
            int act = _layers[i - 1].Act;
            if (fused) k.LinearBackwardInput(batch * l.In, dy, w, _z[i - 1].AsArrayView(), dx, l.In, l.Out, act);
            else
            {
                _gpu.Gemm(false, false, batch, l.In, l.Out, dy, l.Out, w, l.In, dx, l.In);
                k.ActivationBackward(batch * l.In, dx, _z[i - 1].AsArrayView(), act);
            }
        }
        if (_layers.Any(l => l.B < 0)) _normScratch.MemSetToZero(); // bias-free layers wrote their unused db there
    }

    private void ClipGradients()
    {
        var k = _gpu.Kernels;
        k.Square(_total, _grads.AsArrayView(), _normScratch.AsArrayView());
        _gpu.Sum(_normScratch.AsArrayView(), _total, _normSq.AsArrayView());
        k.Clip(_total, _grads.AsArrayView(), _normSq.AsArrayView(), MaxGradNorm);
    }

    /// <summary>Releases the device buffers (not the backend or datasets).</summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        foreach (var b in _z.Concat(_dz).Append(_x).Append(_params).Append(_grads).Append(_normScratch).Append(_normSq)) b.Dispose();
        _y.Dispose();
        _stats.Dispose();
    }
}
