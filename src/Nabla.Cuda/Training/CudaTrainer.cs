using Nabla.Optim.Rules;
using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using Nabla.Cuda.Kernels;
using Act = Nabla.Cuda.Kernels.Act;
using Nabla.Data;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;
using Nabla.Training;

namespace Nabla.Cuda.Training;

/// <summary>
/// Trains an MLP (<c>Flatten?, (Linear, activation?, Dropout?)*, Linear</c> with cross-entropy) entirely on a CUDA device:
/// parameters, gradients and optimizer state live in flat device arenas, the dataset is resident
/// (<see cref="DeviceDataset"/>), and a step is a fixed handful of launches with no host synchronization.
/// Narrow layers (either width ≤ <see cref="FusedWidth"/>) run GEMM-free kernels with bias and activation fused in;
/// the first reads its batch straight from the dataset through the shuffled order, a small output layer computes
/// its logits inside the softmax–cross-entropy–gradient kernel, and the weight-gradient kernel applies the optimizer
/// to each weight as its gradient is summed. The textbook's model thus takes 5 launches per step: forward of
/// layer 1, output layer + loss, adjoint of layer 2, update of layer 2, update of layer 1. Wide layers use cuBLAS
/// (or the tiled GEMM) plus fused epilogues and one optimizer launch each. The host waits only at the end of an
/// epoch or evaluation, for its loss and accuracy.
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

    /// <summary>An output layer with at most this many weights computes its logits inside the loss kernel.</summary>
    public const int FusedLossWork = 4_096;

    private readonly CudaBackend _gpu;
    private readonly DeviceLayer[] _layers;
    private readonly Dictionary<Tensor, int> _arena = new(ReferenceEqualityComparer.Instance);
    private readonly int _total;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _params, _grads, _normScratch, _normSq;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _x;              // the gathered input batch (wide first layers)
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] _z, _dz;      // per layer: output, dℓ/d(pre-activation)
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _stats;
    private readonly double[] _hostStats = new double[2];
    private DeviceOptimizer _optimizer;
    private int _stepEpoch, _stepBatch; // the step running: with each layer's seed, it picks the dropout masks

    private readonly record struct DeviceLayer(int In, int Out, int Act, int W, int B, float DropP = 0, ulong DropSeed = 0);

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
        _stats = gpu.AllocateRaw<double>(2);
        _optimizer = new DeviceOptimizer(gpu, optimizer, _arena, _total);
    }

    /// <summary>The model; its host tensors are current after <see cref="SyncToHost"/>.</summary>
    public Sequential Model { get; }

    /// <summary>Largest batch the device buffers hold (evaluation runs in chunks of it).</summary>
    public int MaxBatch { get; }

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

    /// <summary>
    /// Whether narrow layers fuse the dataset gather, the loss and the optimizer into their kernels (the default:
    /// 5 launches per step for the textbook's model instead of 8). Off, every stage is its own launch — the plain
    /// form the tests hold the fused one to.
    /// </summary>
    public bool FuseStep { get; set; } = true;

    /// <summary>Which layers run fused GEMM-free kernels (true) or GEMM + epilogue (false), in order.</summary>
    public IReadOnlyList<bool> FusedLayers => [.. _layers.Select(IsFused)];

    /// <summary>
    /// The device layers of <paramref name="model"/>'s <see cref="LayerPlan"/>: each Linear layer, with the
    /// activation and the dropout that follow it fused into its kernels.
    /// </summary>
    private static DeviceLayer[] Plan(Sequential model, int features, Dictionary<Tensor, int> arena, out int total)
    {
        var plan = LayerPlan.Of(model, features);
        var layers = new List<DeviceLayer>();
        total = 0;
        for (int i = 0; i < plan.Layers.Count; i++)
        {
            var spec = plan.Layers[i];
            switch (spec.Kind)
            {
                case LayerKind.Flatten:
                    break;
                case LayerKind.Dropout when spec.P is null:
                    throw new NotSupportedException("a Dropout whose probability its file did not record (a PyTorch state dict) cannot train");
                case LayerKind.Dropout when spec.P == 0:
                    break;
                case LayerKind.Dropout when layers.Count > 0 && layers[^1].DropP == 0:
                    // Dropout after a layer's activation: its mask is applied inside that layer's kernels.
                    layers[^1] = layers[^1] with { DropP = spec.P.Value, DropSeed = spec.Seed };
                    break;
                case LayerKind.Linear:
                    var parameters = model.Layers[i].NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
                    int w = total;
                    arena[parameters["weight"]] = w;
                    total += spec.InFeatures * spec.OutFeatures;
                    int b = -1;
                    if (spec.Bias) { b = total; arena[parameters["bias"]] = b; total += spec.OutFeatures; }
                    layers.Add(new DeviceLayer(spec.InFeatures, spec.OutFeatures, Act.Identity, w, b));
                    break;
                case LayerKind.Activation when layers.Count > 0 && layers[^1].Act == Act.Identity && layers[^1].DropP == 0:
                    layers[^1] = layers[^1] with { Act = (int)spec.Activation!.Value }; // ActivationKind's values are the kernels' codes
                    break;
                default:
                    throw new NotSupportedException(
                        $"layer {i} ({spec}) is not supported by the CUDA trainer (it runs Flatten, Linear, Sigmoid/Tanh/ReLU after a Linear layer, and Dropout after an activation).");
            }
        }
        if (layers.Count == 0) throw new NotSupportedException("The model has no Linear layer.");
        if (layers[^1].Act != Act.Identity || layers[^1].DropP != 0)
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

    /// <summary>Starts a training pass over <paramref name="data"/> in <paramref name="order"/>: uploads the order, zeroes the pass's sums.</summary>
    public void BeginEpoch(DeviceDataset data, ReadOnlySpan<int> order, int batchSize)
    {
        Check(data, batchSize);
        data.SetOrder(order);
        _stats.MemSetToZero();
    }

    /// <summary>
    /// One training step on samples order[start, start + size) — launches only, no waiting; the loss and right
    /// answers are summed on the device. Dropout masks depend on (<paramref name="epoch"/>, <paramref name="batch"/>),
    /// as the CPU's do: a resumed epoch draws the same masks.
    /// </summary>
    public void Step(DeviceDataset data, int epoch, int batch, int start, int size)
    {
        if (size > MaxBatch) throw new ArgumentException($"Batch {size} exceeds the trainer's maximum of {MaxBatch}.");
        (_stepEpoch, _stepBatch) = (epoch, batch);
        Step(data, start, size);
    }

    /// <summary>Ends the pass: its loss sum and right answers (the pass's one wait for the device).</summary>
    public PassTotals EndEpoch()
    {
        var (lossSum, correct) = ReadStats();
        return new PassTotals(lossSum, (int)correct);
    }

    /// <summary>Starts an evaluation pass in <paramref name="order"/>.</summary>
    public void BeginEvaluation(DeviceDataset data, ReadOnlySpan<int> order)
    {
        Check(data, 1);
        data.SetOrder(order);
        _stats.MemSetToZero();
    }

    /// <summary>Evaluates samples order[start, start + size), in chunks of <see cref="MaxBatch"/>; launches only.</summary>
    public void Evaluate(DeviceDataset data, int start, int size)
    {
        for (int at = start; at < start + size; at += MaxBatch)
        {
            int n = Math.Min(MaxBatch, start + size - at);
            if (!ReadsDatasetDirectly) Gather(data, at, n);
            Forward(data, at, n, training: false);
        }
    }

    /// <summary>Ends the evaluation pass: its loss sum and right answers.</summary>
    public PassTotals EndEvaluation() => EndEpoch();

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

    /// <summary>Whether the first layer reads the dataset through the order itself, so no batch copy is gathered.</summary>
    private bool ReadsDatasetDirectly => FuseStep && IsFused(_layers[0]);

    /// <summary>One training step on samples order[start, start+size) — launches only, no waiting.</summary>
    private void Step(DeviceDataset data, int start, int size)
    {
        bool fusedUpdate = FuseStep && MaxGradNorm <= 0; // clipping needs every gradient before any update
        if (!ReadsDatasetDirectly) Gather(data, start, size);
        Forward(data, start, size, training: true);
        var h = fusedUpdate ? _optimizer.NextStep() : default;
        Backward(data, start, size, fusedUpdate, h);
        if (!fusedUpdate)
        {
            if (MaxGradNorm > 0) ClipGradients();
            h = _optimizer.NextStep();
            _optimizer.Update(_params.AsArrayView(), _grads.AsArrayView(), 0, _total, h);
        }
    }

    private void Gather(DeviceDataset data, int start, int size) =>
        _gpu.Kernels.Gather(size * data.Features, data.FeatureView, data.OrderView, start, data.Features, _x.AsArrayView());

    /// <summary>Layer i's input (the dataset itself for a fused first layer), and its kernel arguments.</summary>
    private (ArrayView<float> X, LayerArgs Args) InputOf(int i, DeviceDataset data, int start, int batch, bool training)
    {
        var l = _layers[i];
        var args = new LayerArgs
        {
            In = l.In, Out = l.Out, Act = l.Act, PrevAct = i > 0 ? _layers[i - 1].Act : Act.Identity,
            Batch = batch, W = l.W, B = l.B, RowStart = start,
        };
        if (training)
        {
            (args.DropP, args.Seed) = (l.DropP, MaskSeed(i));
            if (i > 0) (args.PrevDropP, args.PrevSeed) = (_layers[i - 1].DropP, MaskSeed(i - 1));
        }
        if (i > 0) return (_z[i - 1].AsArrayView(), args);
        if (!ReadsDatasetDirectly) return (_x.AsArrayView(), args);
        args.Indirect = 1;
        return (data.FeatureView, args);
    }

    /// <summary>
    /// The textbook's forward loop, <c>z_{i+1} = σ(W_i z_i + b_i)</c>, over the batch, ending in the fused
    /// softmax–cross-entropy (with the output layer itself when that is small).
    /// </summary>
    private void Forward(DeviceDataset data, int start, int batch, bool training)
    {
        bool writeGrad = training;
        var k = _gpu.Kernels;
        var p = _params.AsArrayView();
        var loss = new LossArgs { RowStart = start, WriteGrad = writeGrad ? 1 : 0, InvBatch = 1f / batch };
        for (int i = 0; i < _layers.Length; i++)
        {
            var l = _layers[i];
            var (x, args) = InputOf(i, data, start, batch, training);
            var z = _z[i].AsArrayView();
            bool last = i == _layers.Length - 1;
            if (last && FuseStep && IsFused(l) && l.In * l.Out <= FusedLossWork)
            {
                k.LayerForwardLoss(batch, x, data.OrderView, p, z, data.LabelView, _dz[i].AsArrayView(), args, loss, _stats.AsArrayView());
                return;
            }
            if (IsFused(l)) k.LayerForward(batch * l.Out, x, data.OrderView, p, z, args);
            else
            {
                _gpu.Gemm(false, true, batch, l.Out, l.In, x, l.In, p.SubView(l.W, l.Out * l.In), l.In, z, l.Out);
                k.BiasActivation(batch * l.Out, z, p, args);
            }
        }
        k.SoftmaxCrossEntropy(batch, _z[^1].AsArrayView(), data.LabelView, data.OrderView, _layers[^1].Out, _dz[^1].AsArrayView(), loss, _stats.AsArrayView());
    }

    /// <summary>
    /// The textbook's backward loop: from the loss adjoint <c>ŷ − y</c>, each layer's adjoint
    /// <c>p_i = A_iᵀ p_{i+1}</c> through the previous activation (computed first, while W_i is unchanged) and its
    /// gradient <c>q_i = B_iᵀ p_{i+1}</c> — applied by the optimizer at once when <paramref name="fusedUpdate"/>.
    /// </summary>
    private void Backward(DeviceDataset data, int start, int batch, bool fusedUpdate, in StepConstants h)
    {
        var k = _gpu.Kernels;
        var p = _params.AsArrayView();
        var g = _grads.AsArrayView();
        var (s1, s2, s3) = _optimizer.Slots;
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            var l = _layers[i];
            var (x, args) = InputOf(i, data, start, batch, training: true);
            var dy = _dz[i].AsArrayView();
            if (IsFused(l))
            {
                if (i > 0) k.LayerInput(batch * l.In, dy, p, _z[i - 1].AsArrayView(), _dz[i - 1].AsArrayView(), args);
                k.LayerWeights(l.Out * (l.In + 1), dy, x, data.OrderView, p, g, s1, s2, s3, args, h, fusedUpdate ? 1 : 0);
                continue;
            }
            _gpu.Gemm(true, false, l.Out, l.In, batch, dy, l.Out, x, l.In, g.SubView(l.W, l.Out * l.In), l.In);
            if (l.B >= 0) k.ColumnSum(l.Out, dy, batch, l.Out, g.SubView(l.B, l.Out));
            if (i > 0)
            {
                var dx = _dz[i - 1].AsArrayView();
                _gpu.Gemm(false, false, batch, l.In, l.Out, dy, l.Out, p.SubView(l.W, l.Out * l.In), l.In, dx, l.In);
                k.ActivationBackward(batch * l.In, dx, _z[i - 1].AsArrayView(), _layers[i - 1].Act, args.PrevSeed, args.PrevDropP);
            }
            // W and b sit side by side in the arena: one launch updates both.
            if (fusedUpdate) _optimizer.Update(p, g, l.W, l.Out * l.In + (l.B >= 0 ? l.Out : 0), h);
        }
    }

    /// <summary>Layer <paramref name="layer"/>'s mask seed for the running step: the CPU's <see cref="Dropout"/> draws the same.</summary>
    private uint MaskSeed(int layer) => MaskSeedFor(_stepEpoch, _stepBatch, layer);

    /// <summary>The seed of layer <paramref name="layer"/>'s dropout mask at (epoch, batch), for tests that rebuild the masks.</summary>
    internal uint MaskSeedFor(int epoch, int batch, int layer) => DropoutMask.StepSeed(_layers[layer].DropSeed, epoch, batch);

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
        _stats.Dispose();
    }
}
