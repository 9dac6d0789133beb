using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Distributed;

/// <summary>
/// Data-parallel training over an <see cref="MpiWorld"/>, with the bits of a one-process run for any number of processes.
/// </summary>
/// <remarks>
/// <para>Every process holds the whole model and optimizer and draws the same batch order. Of each batch (the global
/// batch, <c>--batch-size</c>) a process computes the forward pass and dℓ/dx of its share of the rows, and of each
/// weight gradient <c>dW = dyᵀ·x</c> its share of the rows of dW, over every row of the batch — so the rows of the
/// activations and of dy that a weight gradient reads are gathered from the other processes, and so are the shares of
/// dW. Nothing is summed across processes: every element is computed by one process exactly as the one-process run
/// computes it (the GEMM kernel chosen as for the whole shape, the same order of additions), so the weights, losses
/// and accuracies are bitwise those of the plain one-process run, for 1, 2, 3 or any number of processes.</para>
/// <para>The model's output is gathered too (a batch's rows × classes, a few kilobytes), and every process computes the
/// loss, its gradient and the accuracy of the whole batch, as the one-process run does. The optimizer's update is
/// element-wise, so it is sharded the same way: as soon as a layer's share of its gradient is computed, the process
/// updates its own rows of the layer's parameters and starts gathering them, while the backward pass goes on; the
/// optimizer's state is gathered only when a checkpoint may need it (every <c>checkpointEvery</c> steps and at each
/// epoch's end). With gradient clipping (which needs every gradient first) or an optimizer over other parameters, the
/// gradients are gathered instead and every process takes the whole step. At each epoch's end a hash of the
/// parameters is compared across processes: if they ever differ, the job stops with an error rather than train on.</para>
/// <para>When every process runs on one host, the step's buffers and the parameters lie in memory they share
/// (<see cref="SharedPages"/>): each process writes its own rows where the others read them, a gather is a barrier,
/// and each process updates its own rows of the one copy of the weights in place (<see cref="RowExchange"/>).</para>
/// </remarks>
public sealed class DataParallelEngine : ITrainingEngine, IDisposable
{
    private readonly MpiWorld _world;
    private readonly Trainer _trainer;
    private readonly Loss _loss;
    private readonly Sequential _model;
    private readonly BatchEngine _engine;
    private readonly Tensor[] _parameters;
    private readonly RowExchange _exchange;
    private readonly SharedPages? _shared;
    private readonly Dropout[] _dropouts;
    private readonly Module[] _modules; // the layers as an array: a step iterates them without an enumerator
    private readonly int _features, _outputs;
    private readonly float[] _targets, _dOut;
    private Memory<float> _x; // the batch's inputs: on one host in shared memory, each process writing its own rows
    private readonly int[] _labels;
    private int[] _order = [];
    private Optimizer? _optimizer;
    private float _maxGradNorm;
    private readonly bool _gatherInput;
    private readonly int _checkpointEvery;
    private bool _fuseUpdate, _shardedSinceState;
    private int _epoch, _batchSize;

    /// <summary>Prepares the data-parallel engine for <paramref name="trainer"/> and copies rank 0's parameters to every process.</summary>
    /// <param name="world">The job.</param>
    /// <param name="trainer">The trainer whose model, loss and optimizer it runs.</param>
    /// <param name="inputFeatures">Features per sample.</param>
    /// <param name="batchSize">The global batch.</param>
    /// <param name="checkpointEvery">The steps between mid-epoch checkpoints (<see cref="TrainingRun.CheckpointEvery"/>; 0: none):
    /// after those steps, and at every epoch's end, the optimizer's state is gathered, which a sharded update keeps
    /// current only for each process's own rows.</param>
    /// <exception cref="NotSupportedException">The batch is smaller than the job, the model has a layer without a batch
    /// form, or a parameter that is not a layer's own; the message says which.</exception>
    public DataParallelEngine(MpiWorld world, Trainer trainer, int inputFeatures, int batchSize, int checkpointEvery = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(checkpointEvery);
        _checkpointEvery = checkpointEvery;
        if (Refuses(world.Size, batchSize) is { } why) throw new NotSupportedException(why);
        _world = world;
        _trainer = trainer;
        _loss = trainer.Loss;
        _model = trainer.Model as Sequential ?? throw new NotSupportedException($"{trainer.Model.GetType().Name} is not a Sequential of built-in layers.");
        if (!ExplicitEngine.Supports(_model)) throw new NotSupportedException("a layer of the model has no batch form: data-parallel training runs built-in layers only.");
        _parameters = _model.Parameters();
        var arena = _model.ParameterArena() ?? throw new NotSupportedException("the model's parameters cannot be gathered into one arena.");
        var shape = new BatchEngine(_model, inputFeatures, 1); // the layers' shapes, before any buffer is shared
        if (!shape.EachParameterOnce) throw new NotSupportedException("a parameter belongs to two layers (tied weights): data-parallel training splits each layer's gradient among the processes.");
        (_features, _outputs) = (inputFeatures, shape.OutputFeatures);
        _labels = new int[batchSize];
        _targets = new float[batchSize * _outputs];
        _dOut = new float[batchSize * _outputs];
        _gatherInput = world.Size > 1 && (world.Hosts > 1 || Environment.GetEnvironmentVariable("NABLA_MPI_GATHER_INPUT") == "1");
        _dropouts = [.. _model.Layers.OfType<Dropout>()];
        _modules = [.. _model.Layers];
        world.Broadcast(arena.Data); // every process starts from rank 0's weights
        // NABLA_MPI_OVERLAP=0 gathers each gradient there and then, and steps after the backward pass (for measuring; the
        // same bits); NABLA_MPI_SHARED=0 copies rows between the processes of one host instead of sharing memory.
        bool overlap = Environment.GetEnvironmentVariable("NABLA_MPI_OVERLAP") != "0";
        _shared = Environment.GetEnvironmentVariable("NABLA_MPI_SHARED") == "0" ? null : SharedPages.TryCreate(world);
        try
        {
            (_engine, _exchange, _x) = Buffers(arena, batchSize, overlap);
        }
        catch (IOException e)
        {
            // Every process gets here alike (SharedPages agrees on failure): the same job, rows copied by MPI.
            SharedMemoryUnavailable = e.Message;
            _shared!.Dispose();
            _shared = null;
            (_engine, _exchange, _x) = Buffers(arena, batchSize, overlap);
        }
    }

    /// <summary>The step's buffers and exchange: in the shared pages when there are any (collective), else private.</summary>
    /// <exception cref="IOException">The shared memory could not be made.</exception>
    private (BatchEngine, RowExchange, Memory<float>) Buffers(TensorArena parameters, int batchSize, bool overlap)
    {
        var engine = new BatchEngine(_model, _features, batchSize, _shared is null ? null : _shared.Allocate);
        Memory<float> x = _shared is not null && !_gatherInput ? _shared.Allocate(batchSize * _features) : new float[batchSize * _features];
        var exchange = new RowExchange(_world, _parameters, overlap, _shared);
        try
        {
            exchange.ShareParameters(parameters);
        }
        catch (IOException)
        {
            exchange.Dispose();
            throw;
        }
        return (engine, exchange, x);
    }

    /// <summary>Whether the processes (all on one host) share the step's buffers in memory instead of copying rows.</summary>
    public bool SharedMemory => _shared is not null;

    /// <summary>Whether the processes share one copy of the parameters, each updating its own rows in place.</summary>
    public bool SharedParameters => _exchange.SharedParameters;

    /// <summary>Why the processes of one host copy rows instead of sharing memory (for instance a full /dev/shm), or null.</summary>
    public string? SharedMemoryUnavailable { get; }

    /// <summary>Why <paramref name="processes"/> cannot share batches of <paramref name="batchSize"/>, or null when they can.</summary>
    public static string? Refuses(int processes, int batchSize) =>
        batchSize < processes ? $"a batch of {batchSize} is smaller than the {processes} processes that would share it" : null;

    /// <inheritdoc/>
    public string Description => $"cpu, data-parallel over {_world.Size} MPI processes on {_world.Hosts} host{(_world.Hosts == 1 ? "" : "s")}";

    /// <summary>Seconds this process spent in MPI calls during training steps (gathers, and waiting for the other processes), since it started.</summary>
    public double ExchangeSeconds => _exchange.Seconds;

    /// <summary>Whether a weight gradient's gather runs while the layers before it are differentiated.</summary>
    public bool Overlapped => _exchange.Overlapped;

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
        // Each process may update its own rows of each parameter as soon as their gradient is computed when the
        // optimizer holds exactly the model's parameters, in order (its indices are the engine's), and nothing
        // (clipping) needs all gradients first. Decided per epoch: the optimizer can change between phases.
        _fuseUpdate = maxGradNorm == 0 && optimizer.Parameters.AsSpan().SequenceEqual(_parameters);
        // A whole step on every process would write every shared row at once: such a run keeps private parameters.
        if (!_fuseUpdate) _exchange.UnshareParameters();
    }

    /// <inheritdoc/>
    /// <remarks>Every process computes the whole batch's loss and right answers, the one-process run's.</remarks>
    public StepOutcome Step(DataLoader loader, int epoch, int batch)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var data = loader.Dataset;
        int size = loader.BatchSizeAt(batch);
        LoadBatch(data, batch, size);
        foreach (var module in _modules) module.SetStep(_epoch, batch);
        var (r0, _) = IRowSharing.Share(size, _world.Rank, _world.Size);
        foreach (var d in _dropouts) d.FirstRow = r0; // masks keyed by the row's place in the whole batch
        var output = _engine.ForwardShare(_x, size, _exchange);
        float loss;
        int correct = 0;
        if (data.Targets > 0) loss = _loss.ForwardBackward(output, _targets.AsSpan(0, size * _outputs), _dOut, size, _outputs);
        else
        {
            correct = Accuracy.CountCorrect(output, _labels.AsSpan(0, size), size, _outputs);
            loss = _loss.ForwardBackward(output, _labels.AsSpan(0, size), _dOut, size, _outputs);
        }
        if (float.IsFinite(loss)) Backward(batch); // else the trainer stops: every process sees the same loss
        StepSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new StepOutcome(loss, correct, true);
    }

    /// <summary>
    /// The batch's rows into the input buffers. On several hosts, each process reads its own rows and gathers the
    /// others' from the processes that read them (it touches only its samples); on one host, where the input buffer
    /// is shared memory, each writes its own rows there; without shared memory (<c>NABLA_MPI_SHARED=0</c>, a full
    /// /dev/shm) each reads every row itself from the one mapped copy of the data — the same values, without the
    /// exchange (<c>NABLA_MPI_GATHER_INPUT=1</c> gathers there too, to test and measure that path).
    /// </summary>
    private void LoadBatch(IDataset data, int batch, int size)
    {
        var all = _order.AsSpan(batch * _batchSize, size);
        bool regression = data.Targets > 0;
        var (r0, r1) = IRowSharing.Share(size, _world.Rank, _world.Size);
        var mine = all[r0..r1];
        var x = _x.Span;
        if (_shared is not null && !_gatherInput)
        {
            // The inputs lie in shared memory: each process writes its own rows, which the others read only after the
            // model output's gather (the first layer's weight gradient); the labels, a few bytes, each reads whole.
            data.Gather(mine, x.Slice(r0 * _features, mine.Length * _features), _labels.AsSpan(r0, mine.Length));
            if (regression) data.GatherTargets(all, _targets.AsSpan(0, size * _outputs));
            else
                for (int i = 0; i < size; i++)
                    if (i < r0 || i >= r1) _labels[i] = data.Label(all[i]);
            return;
        }
        if (!_gatherInput)
        {
            data.Gather(all, x[..(size * _features)], _labels.AsSpan(0, size));
            if (regression) data.GatherTargets(all, _targets.AsSpan(0, size * _outputs));
            return;
        }
        data.Gather(mine, x.Slice(r0 * _features, mine.Length * _features), _labels.AsSpan(r0, mine.Length));
        _exchange.AllGatherRows(x[..(size * _features)], size, _features);
        if (regression)
        {
            data.GatherTargets(mine, _targets.AsSpan(r0 * _outputs, mine.Length * _outputs));
            _exchange.AllGatherRows(_targets.AsSpan(0, size * _outputs), size, _outputs);
        }
        else _exchange.AllGatherRows(_labels.AsSpan(0, size), size);
    }

    /// <summary>This process's share of the backward pass, the gathers, and the optimizer's step (or its share of it).</summary>
    private void Backward(int batch)
    {
        _exchange.BeginStep(_fuseUpdate ? _optimizer : null);
        _engine.BackwardShare(_dOut, _exchange);
        _exchange.Finish();
        if (_exchange.Sharded)
        {
            _shardedSinceState = true;
            // A checkpoint is written after this step (TrainingRun's rule): it needs every row of the optimizer's state.
            if (_checkpointEvery > 0 && (batch + 1) % _checkpointEvery == 0) GatherState();
            return;
        }
        if (_maxGradNorm > 0) GradClip.ClipGradNorm(_parameters, _maxGradNorm);
        _optimizer!.Step();
    }

    private void GatherState()
    {
        _exchange.GatherState(_optimizer!);
        _shardedSinceState = false;
    }

    /// <inheritdoc/>
    /// <remarks>The losses were reported step by step; this checks that the parameters are the same everywhere.</remarks>
    /// <exception cref="InvalidOperationException">The processes' parameters differ.</exception>
    public PassTotals EndEpoch()
    {
        if (_shardedSinceState) GatherState();
        CheckParametersAgree();
        return default;
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

    /// <summary>Frees the exchange's MPI layouts, and gives each process private memory again (values kept).</summary>
    public void Dispose()
    {
        _exchange.Dispose();
        _shared?.Dispose();
    }
}
