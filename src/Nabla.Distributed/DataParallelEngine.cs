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

    private readonly MpiWorld _world;
    private readonly Trainer _trainer;
    private readonly Loss _loss;
    private readonly Sequential _model;
    private readonly BatchEngine _engine;
    private readonly Tensor[] _parameters;
    private readonly TensorArena _gradients, _receive;
    private readonly int[] _starts; // this process's leaves in its block of rows: leaf j is rows [_starts[j], _starts[j + 1])
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
        int maxBlock = (batchSize + microShards - 1) / microShards * _leaves;
        _engine = new BatchEngine(_model, inputFeatures, maxBlock);
        if (!_engine.EachParameterOnce) throw new NotSupportedException("a parameter belongs to two layers (tied weights): data-parallel training sums each layer's gradient by micro-shards.");
        (_features, _outputs) = (inputFeatures, _engine.OutputFeatures);
        _x = new float[maxBlock * inputFeatures];
        _labels = new int[maxBlock];
        _targets = new float[maxBlock * _outputs];
        _dOut = new float[maxBlock * _outputs];
        _starts = new int[_leaves + 1];
        if (overlap && world.Size > 1) _overlap = new OverlappedExchange(world, _parameters, _gradients, _receive);
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
            Block(loader.Dataset, batch, size, sink: null);
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
    /// The step with the exchange overlapped: this process's block back-propagated with each layer handed to the
    /// communication thread as soon as its gradient is final, which exchanges it and, unless the gradients are clipped
    /// (which needs them all), updates it; then the step waits for the last layer.
    /// </summary>
    private void OverlappedStep(IDataset data, int batch, int size)
    {
        bool fuse = _fuseUpdate;
        _overlap!.Begin(fuse ? _optimizer : null);
        Block(data, batch, size, _overlap);
        long wait = System.Diagnostics.Stopwatch.GetTimestamp();
        _overlap.Finish();
        WaitSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(wait).TotalSeconds;
        if (fuse) return;
        if (_maxGradNorm > 0) GradClip.ClipGradNorm(_parameters, _maxGradNorm);
        _optimizer!.Step();
    }

    /// <summary>Seconds the training thread spent waiting for the exchange (after its own work was done), since it started.</summary>
    public double WaitSeconds { get; private set; }

    /// <summary>The first row of micro-shard <paramref name="leaf"/> in a batch of <paramref name="size"/>.</summary>
    private int RowOf(int leaf, int size) => (int)((long)leaf * size / MicroShards);

    /// <summary>
    /// Forward and backward of this process's leaves as one block of rows: its dropout masks and, per leaf, its loss
    /// recorded at its slot; every row computed as in a batch of one micro-shard, and each layer's gradient the
    /// leaves' sum in the fixed tree (<see cref="BatchEngine.BackwardLeaves"/>), announced to <paramref name="sink"/>.
    /// </summary>
    private void Block(IDataset data, int batch, int size, IGradientSink? sink)
    {
        int r0 = RowOf(_firstLeaf, size), m = RowOf(_firstLeaf + _leaves, size) - r0;
        for (int j = 0; j <= _leaves; j++) _starts[j] = RowOf(_firstLeaf + j, size) - r0;
        var indices = _order.AsSpan(batch * _batchSize + r0, m);
        data.Gather(indices, _x.AsSpan(0, m * _features), _labels.AsSpan(0, m));
        bool regression = data.Targets > 0;
        if (regression) data.GatherTargets(indices, _targets.AsSpan(0, m * _outputs));
        foreach (var module in _modules) module.SetStep(_epoch, batch);
        foreach (var d in _dropouts) d.FirstRow = r0;
        var output = _engine.Forward(_x, m, rowsLike: (size + MicroShards - 1) / MicroShards);
        for (int j = 0; j < _leaves; j++)
        {
            int s = _starts[j], rows = _starts[j + 1] - s, slot = batch * MicroShards + _firstLeaf + j;
            var o = output.Slice(s * _outputs, rows * _outputs);
            var dOut = _dOut.AsSpan(s * _outputs, rows * _outputs);
            float loss;
            if (regression) loss = _loss.ForwardBackward(o, _targets.AsSpan(s * _outputs, rows * _outputs), dOut, rows, _outputs);
            else
            {
                _correctAt[slot] = Accuracy.CountCorrect(o, _labels.AsSpan(s, rows), rows, _outputs);
                loss = _loss.ForwardBackward(o, _labels.AsSpan(s, rows), dOut, rows, _outputs);
            }
            _lossAt[slot] = (double)loss * rows;
            // The loss is the batch's mean: this leaf's gradient (a mean over its rows) weighs rows/B.
            TensorPrimitives.Multiply(dOut, (float)rows / size, dOut);
        }
        _engine.BackwardLeaves(_dOut.AsSpan(0, m * _outputs), _starts, sink);
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
