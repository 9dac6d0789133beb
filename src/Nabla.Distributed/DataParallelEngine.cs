using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Distributed;

/// <summary>
/// Data-parallel training over an <see cref="MpiWorld"/>, with the same bits for any number of processes.
/// </summary>
/// <remarks>
/// <para>Every process holds the whole model and optimizer and draws the same batch order. Each batch (the global
/// batch, <c>--batch-size</c>) is cut into <see cref="MicroShards"/> fixed micro-shards — rows
/// [j·B/S, (j+1)·B/S) — whose gradients are summed in one fixed balanced binary tree; each process computes a
/// contiguous, aligned block of S/N leaves and reduces it locally, and the processes then combine their blocks by
/// recursive doubling (partner = rank XOR 2ˡ at level l), which is the rest of the same tree. Float addition is
/// commutative, so both partners of a pair get the same bits; the tree is the same for 1, 2, 4 … S processes, so is
/// the sum. Then every process takes the same optimizer step.</para>
/// <para>Against a plain one-process run the result is equal within float32 rounding, not bitwise: that run sums a
/// batch's gradient in one GEMM over all its rows, this one per micro-shard and then across them.</para>
/// <para>Losses and accuracies are summed per micro-shard, and at the epoch's end in the same global order on every
/// process. At each epoch's end a hash of the parameters is compared across processes: if they ever differ, the job
/// stops with an error rather than train on.</para>
/// </remarks>
public sealed class DataParallelEngine : ITrainingEngine, IDisposable
{
    /// <summary>The default number of micro-shards per batch: 1, 2 or 4 processes give the same bits.</summary>
    public const int DefaultMicroShards = 4;

    private const int MaxSingleChunkRows = 320; // the GEMM sums k ≤ KC rows in one accumulator (see PairInPlace)
    private readonly MpiWorld _world;
    private readonly Trainer _trainer;
    private readonly Loss _loss;
    private readonly Sequential _model;
    private readonly BatchEngine _engine;
    private readonly Tensor[] _parameters;
    private readonly TensorArena _gradients, _receive;
    private readonly List<TensorArena> _spare = [];
    private readonly int[] _stackLevel = new int[32]; // the local reduction's stack: levels and buffers, allocated once
    private readonly TensorArena[] _stackBuffer = new TensorArena[32];
    private readonly int[] _isWeight; // 1 for a Linear weight (its gradient GEMM can add onto a buffer), else 0
    private readonly float[] _saved;
    private readonly int[] _savedAt; // where each non-weight parameter's saved gradient starts in _saved
    private readonly OverlappedExchange? _overlap;
    private readonly Dropout[] _dropouts;
    private readonly Module[] _modules; // the layers as an array: a step iterates them without an enumerator
    private readonly int _features, _outputs, _leaves, _firstLeaf;
    private readonly float[] _x, _targets, _dOut;
    private readonly int[] _labels;
    private int[] _order = [];
    private double[] _lossAt = [], _correctAt = [];
    private Optimizer? _optimizer;
    private float _maxGradNorm;
    private bool _fuseUpdate;
    private int _epoch, _batchSize;

    /// <summary>Prepares the data-parallel engine for <paramref name="trainer"/> and copies rank 0's parameters to every process.</summary>
    /// <param name="world">The job.</param>
    /// <param name="trainer">The trainer whose model, loss and optimizer it runs.</param>
    /// <param name="inputFeatures">Features per sample.</param>
    /// <param name="batchSize">The global batch.</param>
    /// <param name="microShards">Micro-shards per batch (a power of two that the process count divides).</param>
    /// <exception cref="NotSupportedException">The process count does not divide the micro-shards as a power of two, the model has a
    /// layer without a batch form, or the optimizer's parameters are not one arena; the message says which.</exception>
    /// <param name="overlap">Exchange (and update) each layer while earlier layers are differentiated (see <see cref="Overlapped"/>).</param>
    public DataParallelEngine(MpiWorld world, Trainer trainer, int inputFeatures, int batchSize, int microShards = DefaultMicroShards, bool overlap = true)
    {
        if (Refuses(world.Size, batchSize, microShards) is { } why) throw new NotSupportedException(why);
        _world = world;
        _trainer = trainer;
        _loss = trainer.Loss;
        MicroShards = microShards;
        _model = trainer.Model as Sequential ?? throw new NotSupportedException($"{trainer.Model.GetType().Name} is not a Sequential of built-in layers.");
        if (!ExplicitEngine.Supports(_model)) throw new NotSupportedException("a layer of the model has no batch form: data-parallel training runs built-in layers only.");
        _parameters = _model.Parameters();
        var arena = _model.ParameterArena() ?? throw new NotSupportedException("the model's parameters cannot be gathered into one arena.");
        _gradients = arena.Gradients!;
        _receive = arena.Like();
        _leaves = microShards / world.Size;
        _firstLeaf = world.Rank * _leaves;
        int maxShard = (batchSize + microShards - 1) / microShards;
        _engine = new BatchEngine(_model, inputFeatures, maxShard);
        (_features, _outputs) = (inputFeatures, _engine.OutputFeatures);
        _x = new float[maxShard * inputFeatures];
        _labels = new int[maxShard];
        _targets = new float[maxShard * _outputs];
        _dOut = new float[maxShard * _outputs];
        var weights = _model.Layers.OfType<Linear>().Select(l => l.Weight).ToHashSet(ReferenceEqualityComparer.Instance);
        _isWeight = [.. _parameters.Select(p => weights.Contains(p) ? 1 : 0)];
        _saved = new float[_parameters.Where((p, i) => _isWeight[i] == 0).Sum(p => p.Size)];
        _savedAt = new int[_parameters.Length];
        for (int i = 0, at = 0; i < _parameters.Length; i++)
            if (_isWeight[i] == 0) (_savedAt[i], at) = (at, at + _parameters[i].Size);
        // Overlap needs each layer's gradient final when the backward pass leaves it: one leaf, or a pair added in place.
        if (overlap && world.Size > 1 && _leaves <= 2 && maxShard <= MaxSingleChunkRows && _engine.EachParameterOnce)
            _overlap = new OverlappedExchange(world, _parameters, _gradients, _receive);
        _dropouts = [.. _model.Layers.OfType<Dropout>()];
        _modules = [.. _model.Layers];
        world.Broadcast(arena.Data); // every process starts from rank 0's weights
    }

    /// <summary>
    /// Why <paramref name="processes"/> cannot train batches of <paramref name="batchSize"/> cut into
    /// <paramref name="microShards"/>, or null when they can.
    /// </summary>
    public static string? Refuses(int processes, int batchSize, int microShards)
    {
        if (microShards < 1 || (microShards & (microShards - 1)) != 0) return $"the micro-shards per batch must be a power of two; got {microShards}";
        if (batchSize < processes) return $"a batch of {batchSize} is smaller than the {processes} processes that would share it";
        if (batchSize < microShards) return $"a batch of {batchSize} cannot be cut into {microShards} micro-shards";
        if ((processes & (processes - 1)) != 0 || processes > microShards)
        {
            var counts = Enumerable.Range(0, 11).Select(i => 1 << i).TakeWhile(c => c <= microShards).ToList();
            string list = counts.Count == 1 ? "1" : string.Join(", ", counts.SkipLast(1)) + " or " + counts[^1];
            return $"{processes} processes cannot share {microShards} micro-shards: each batch's gradient is summed in one fixed binary tree of {microShards} leaves, which {list} processes can split, each the same bits; run {list} processes, or ask for more micro-shards (a power of two)";
        }
        return null;
    }

    /// <summary>Whether each layer's exchange (and update) runs while earlier layers are differentiated.</summary>
    public bool Overlapped => _overlap is not null;

    /// <summary>Micro-shards per batch: the leaves of the fixed summation tree.</summary>
    public int MicroShards { get; }

    /// <inheritdoc/>
    public string Description => $"cpu, data-parallel over {_world.Size} MPI processes on {_world.Hosts} host{(_world.Hosts == 1 ? "" : "s")}";

    /// <summary>Seconds spent in the exchange's MPI calls (on the communication thread when overlapped), since it started.</summary>
    public double ExchangeSeconds => _overlap?.ExchangeSeconds ?? WaitSeconds; // not overlapped: the exchange is all the wait

    /// <summary>Seconds this process spent in training steps, since it started.</summary>
    public double StepSeconds { get; private set; }

    /// <inheritdoc/>
    public void Prepare(DataLoader loader, Loss loss)
    {
        if (!ReferenceEquals(loss, _loss)) throw new NotSupportedException("The data-parallel engine trains with the loss of the trainer it was made for.");
        if (loader.Dataset.Features != _features) throw new ArgumentException($"The data has {loader.Dataset.Features} features per sample; the engine was made for {_features}.");
    }

    /// <inheritdoc/>
    public void BeginEpoch(DataLoader loader, ReadOnlySpan<int> order, Optimizer optimizer, float maxGradNorm, int epoch)
    {
        if (_order.Length != order.Length) _order = new int[order.Length];
        order.CopyTo(_order);
        (_optimizer, _maxGradNorm, _epoch, _batchSize) = (optimizer, maxGradNorm, epoch, loader.BatchSize);
        // The exchange thread may update each layer itself when the optimizer holds exactly the model's parameters, in
        // order (its indices are the engine's), and nothing (clipping) needs all gradients first. Decided per epoch: the
        // optimizer can change between phases.
        _fuseUpdate = maxGradNorm == 0 && optimizer.Parameters.AsSpan().SequenceEqual(_parameters);
        int slots = loader.BatchCount * MicroShards;
        if (_lossAt.Length != slots) (_lossAt, _correctAt) = (new double[slots], new double[slots]);
        Array.Clear(_lossAt);
        Array.Clear(_correctAt);
    }

    /// <inheritdoc/>
    /// <remarks>The batch's loss and accuracy are reported with the epoch's totals (<see cref="EndEpoch"/>).</remarks>
    public StepOutcome Step(DataLoader loader, int epoch, int batch)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        int size = loader.BatchSizeAt(batch);
        if (_overlap is not null) OverlappedStep(loader.Dataset, batch, size);
        else
        {
            ReduceLocally(loader.Dataset, batch, size);
            long exchange = System.Diagnostics.Stopwatch.GetTimestamp();
            // The rest of the tree: each process's block is a subtree, and recursive doubling combines them.
            _world.SumByRecursiveDoubling(_gradients.Data, _receive.Data);
            WaitSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(exchange).TotalSeconds;
            if (_maxGradNorm > 0) GradClip.ClipGradNorm(_parameters, _maxGradNorm);
            _optimizer!.Step();
        }
        StepSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        return StepOutcome.Deferred;
    }

    /// <summary>
    /// The step with the exchange overlapped: this process's one leaf (or pair of leaves) back-propagated with each
    /// layer handed to the communication thread as soon as it is final, which exchanges it and, unless the gradients
    /// are clipped (which needs them all), updates it; then the step waits for the last layer.
    /// </summary>
    private void OverlappedStep(IDataset data, int batch, int size)
    {
        bool fuse = _fuseUpdate;
        bool pair = _leaves == 2;
        _overlap!.Begin(fuse ? _optimizer : null, pair ? _addSavedBias : null);
        if (pair)
        {
            Leaf(data, batch, size, _firstLeaf, overwrite: true, sink: null);
            SaveAndClearBiases();
        }
        Leaf(data, batch, size, _firstLeaf + _leaves - 1, overwrite: _leaves == 1, sink: _overlap);
        long wait = System.Diagnostics.Stopwatch.GetTimestamp();
        _overlap.Finish();
        WaitSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(wait).TotalSeconds;
        if (fuse) return;
        if (_maxGradNorm > 0) GradClip.ClipGradNorm(_parameters, _maxGradNorm);
        _optimizer!.Step();
    }

    private Action<int>? _addSavedBiasCache;

    /// <summary>For parameter i of a pair's second leaf (on the exchange thread): a bias's gradient is the first leaf's, saved, plus the second's.</summary>
    private Action<int> _addSavedBias => _addSavedBiasCache ??= i =>
    {
        if (_isWeight[i] == 1) return;
        var g = _parameters[i].Grad!.Data;
        TensorPrimitives.Add(_saved.AsSpan(_savedAt[i], g.Length), g, g);
    };

    private void SaveAndClearBiases()
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (_isWeight[i] == 1) continue;
            var g = _parameters[i].Grad!.Data;
            g.CopyTo(_saved.AsSpan(_savedAt[i]));
            g.Clear();
        }
    }

    private void AddSavedBiases()
    {
        for (int i = 0; i < _parameters.Length; i++) _addSavedBias(i);
    }

    /// <summary>Seconds the training thread spent waiting for the exchange (after its own work was done), since it started.</summary>
    public double WaitSeconds { get; private set; }

    /// <summary>
    /// This process's leaves of the batch's tree, reduced into the gradient arena: leaves in pairs (the second added
    /// by its own GEMM onto the first), pairs combined as a binary counter does (two sums of the same level add).
    /// </summary>
    private void ReduceLocally(IDataset data, int batch, int size)
    {
        int depth = 0, free = 0;
        for (int leaf = 0; leaf < _leaves; leaf += 2)
        {
            var buffer = depth == 0 ? _gradients : Spare(free++); // the first (lowest) sum is the gradient arena itself
            PointGradientsAt(buffer);
            Leaf(data, batch, size, _firstLeaf + leaf, overwrite: true);
            if (leaf + 1 < _leaves) SecondLeaf(data, batch, size, _firstLeaf + leaf + 1, buffer, free);
            int level = 1;
            while (depth > 0 && _stackLevel[depth - 1] == level)
            {
                var lower = _stackBuffer[--depth];
                TensorPrimitives.Add(lower.Data, buffer.Data, lower.Data);
                (buffer, level) = (lower, level + 1);
                free--;
            }
            (_stackLevel[depth], _stackBuffer[depth]) = (level, buffer);
            depth++;
        }
        PointGradientsAt(_gradients);
    }

    /// <summary>
    /// Adds leaf <paramref name="leaf"/> onto <paramref name="buffer"/>, which holds the pair's first leaf. A Linear
    /// weight's gradient GEMM adds its sum onto the buffer (α·acc + β·C with β = 1 is fl(acc + C): the same bits as
    /// computing the leaf apart and adding) when the shard fits one GEMM accumulation; the other parameters (biases,
    /// summed row by row) are computed apart and added. Larger shards use a buffer of their own.
    /// </summary>
    private void SecondLeaf(IDataset data, int batch, int size, int leaf, TensorArena buffer, int free)
    {
        if ((size + MicroShards - 1) / MicroShards > MaxSingleChunkRows)
        {
            var other = Spare(free);
            PointGradientsAt(other);
            Leaf(data, batch, size, leaf, overwrite: true);
            TensorPrimitives.Add(buffer.Data, other.Data, buffer.Data);
            PointGradientsAt(buffer);
            return;
        }
        SaveAndClearBiases();
        Leaf(data, batch, size, leaf, overwrite: false);
        AddSavedBiases();
    }

    private TensorArena Spare(int index)
    {
        while (_spare.Count <= index) _spare.Add(_gradients.Like());
        return _spare[index];
    }

    /// <summary>Makes every parameter's Grad the view of <paramref name="buffer"/> (the gradient arena itself, or a spare of its layout).</summary>
    private void PointGradientsAt(TensorArena buffer)
    {
        for (int i = 0; i < _parameters.Length; i++)
            if (!ReferenceEquals(_parameters[i].Grad, buffer[i])) _parameters[i].Grad = buffer[i];
    }

    /// <summary>Forward and backward of one micro-shard: its rows of the batch, its dropout masks, its loss recorded at its slot.</summary>
    private void Leaf(IDataset data, int batch, int size, int leaf, bool overwrite, IGradientSink? sink = null)
    {
        int r0 = (int)((long)leaf * size / MicroShards), r1 = (int)((long)(leaf + 1) * size / MicroShards), m = r1 - r0;
        var indices = _order.AsSpan(batch * _batchSize + r0, m);
        data.Gather(indices, _x.AsSpan(0, m * _features), _labels.AsSpan(0, m));
        foreach (var module in _modules) module.SetStep(_epoch, batch);
        foreach (var d in _dropouts) d.FirstRow = r0;
        var output = _engine.Forward(_x, m);
        var dOut = _dOut.AsSpan(0, m * _outputs);
        float loss;
        if (data.Targets > 0)
        {
            data.GatherTargets(indices, _targets.AsSpan(0, m * _outputs));
            loss = _loss.ForwardBackward(output, _targets.AsSpan(0, m * _outputs), dOut, m, _outputs);
        }
        else
        {
            _correctAt[batch * MicroShards + leaf] = Accuracy.CountCorrect(output, _labels, m, _outputs);
            loss = _loss.ForwardBackward(output, _labels.AsSpan(0, m), dOut, m, _outputs);
        }
        _lossAt[batch * MicroShards + leaf] = (double)loss * m;
        // The loss is the batch's mean: this shard's gradient (a mean over its m rows) weighs m/B.
        TensorPrimitives.Multiply(dOut, (float)m / size, dOut);
        _engine.Backward(dOut, overwrite, sink);
    }

    /// <inheritdoc/>
    /// <remarks>Sums every process's per-shard losses and right answers in one global order, then checks that the parameters are the same everywhere.</remarks>
    /// <exception cref="InvalidOperationException">The processes' parameters differ.</exception>
    public PassTotals EndEpoch()
    {
        var loss = GatherSlots(_lossAt);
        var correct = GatherSlots(_correctAt);
        CheckParametersAgree();
        double lossSum = 0, right = 0;
        for (int i = 0; i < loss.Length; i++) (lossSum, right) = (lossSum + loss[i], right + correct[i]);
        return new PassTotals(lossSum, (int)right);
    }

    /// <summary>Every slot (batch, shard) from the process that owns the shard, in global order.</summary>
    private double[] GatherSlots(double[] mine)
    {
        var all = new double[mine.Length * _world.Size];
        _world.AllGather(mine, all);
        var merged = new double[mine.Length];
        for (int slot = 0; slot < mine.Length; slot++)
            merged[slot] = all[(slot % MicroShards / _leaves) * mine.Length + slot];
        return merged;
    }

    private void CheckParametersAgree()
    {
        var arena = _model.ParameterArena()!;
        ulong h = 0xCBF29CE484222325UL;
        foreach (float v in arena.Data) h = (h ^ BitConverter.SingleToUInt32Bits(v)) * 0x100000001B3UL;
        var all = _world.AllGather((long)h);
        if (all.Any(x => x != all[0]))
            throw new InvalidOperationException(
                $"The processes' parameters differ after epoch {_epoch + 1} (hashes {string.Join(", ", all.Select(x => x.ToString("x16")))}): the job stops rather than train on diverged copies.");
    }

    /// <inheritdoc/>
    public void BeginEvaluation(DataLoader loader, ReadOnlySpan<int> order) { }

    /// <inheritdoc/>
    /// <remarks>Every process evaluates the whole set (the same model, the same bits): nothing to exchange.</remarks>
    public StepOutcome Evaluate(DataLoader loader, int batch)
    {
        var b = loader.LoadBatch(batch);
        var engine = _trainer.EvaluationEngine(loader.BatchSize, b.Width);
        if (b.Targets is { } targets) return new StepOutcome(engine.RunRegression(b.Features, targets, b.Size, backward: false), 0, true);
        var (loss, correct) = engine.Run(b.Features, b.Labels, b.Size, backward: false);
        return new StepOutcome(loss, correct, true);
    }

    /// <inheritdoc/>
    public PassTotals EndEvaluation() => default;

    /// <summary>Stops the communication thread.</summary>
    public void Dispose() => _overlap?.Dispose();
}
