using System.Diagnostics;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Training;

/// <summary>
/// Trains a classifier: the textbook's <c>training_loop</c> and <c>test</c> (section 8.5.3), and
/// <see cref="Fit"/> with validation and callbacks. Any <see cref="Module"/> trains: a Sequential of built-in
/// layers runs its explicit-layer form (<see cref="ExplicitEngine"/>: reused buffers, the fused loss, a
/// steady-state step allocates nothing), any other module runs through autograd (<see cref="AutogradEngine"/>),
/// with the same loop, callbacks, validation, early stopping and checkpoints.
/// </summary>
public sealed class Trainer
{
    private IStepEngine? _engine; // sized for the largest training batch seen (or given)
    private IStepEngine? _evalEngine; // for evaluation batches larger than the training batch
    private readonly HostEngine _host;
    private readonly Module[] _modules;
    private int _inputFeatures;
    private readonly Stopwatch _clock = new();

    /// <summary>Creates a trainer for batches of up to <paramref name="maxBatch"/> samples of <paramref name="inputFeatures"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatch"/> is below 1.</exception>
    public Trainer(Module model, Loss loss, Optimizer optimizer, int inputFeatures, int maxBatch)
        : this(model, loss, optimizer)
    {
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), "The batch size must be at least 1.");
        if (inputFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inputFeatures), $"A sample has at least one feature; got {inputFeatures}.");
        if (_inputFeatures != 0 && _inputFeatures != inputFeatures)
            throw new ArgumentException($"The model takes {_inputFeatures} features per sample, but the trainer was created for {inputFeatures}.", nameof(inputFeatures));
        _inputFeatures = inputFeatures;
        _engine = CreateEngine(maxBatch);
    }

    /// <summary>
    /// Creates a trainer that sizes itself from what it is given: the input width from the model (its first Linear
    /// layer) or the first batch, the buffers from the largest batch seen — <c>new Trainer(model, loss, opt)</c>.
    /// </summary>
    public Trainer(Module model, Loss loss, Optimizer optimizer)
    {
        Model = model;
        Loss = loss;
        _optimizer = Owned(optimizer);
        _modules = [.. model.Modules()];
        _host = new HostEngine(this);
        if (NN.LayerPlan.TryOf(model, out var plan, out _)) _inputFeatures = plan!.InputFeatures;
    }

    /// <summary>The engine for training batches of <paramref name="batch"/> samples of <paramref name="width"/> features.</summary>
    private IStepEngine TrainingEngine(int batch, int width)
    {
        CheckWidth(width);
        if (_inputFeatures == 0) _inputFeatures = width;
        if (_engine is null || _engine.MaxBatch < batch) _engine = CreateEngine(Math.Max(batch, _engine?.MaxBatch ?? 0));
        return _engine;
    }

    /// <summary>
    /// Refuses samples of another width than the model takes, before anything runs: an engine reading rows of the
    /// wrong width would train on garbage without an error.
    /// </summary>
    /// <exception cref="ArgumentException">The widths differ; the message names both.</exception>
    private void CheckWidth(int width)
    {
        if (_inputFeatures != 0 && width != _inputFeatures)
            throw new ArgumentException($"The data has {width} features per sample, but the model takes {_inputFeatures}. Build the model for {width} inputs (or give it data of {_inputFeatures}).");
    }

    /// <summary>
    /// Refuses, before the first step, data the model cannot learn from: samples of another width, labels beyond the
    /// model's outputs, numeric targets of another count.
    /// </summary>
    /// <exception cref="ArgumentException">The message names the model's and the data's numbers.</exception>
    private void CheckData(IDataset data)
    {
        CheckWidth(data.Features);
        if (!NN.LayerPlan.TryOf(Model, out var plan, out _, _inputFeatures != 0 ? _inputFeatures : data.Features)) return;
        int outputs = plan!.OutputFeatures;
        if (data.Targets > 0 && data.Targets != outputs)
            throw new ArgumentException($"The data has {data.Targets} numeric targets per sample, but the model gives {outputs} outputs.");
        if (data.Targets == 0 && data.Classes > outputs)
            throw new ArgumentException($"The data has {data.Classes} classes, but the model gives {outputs} outputs (one per class is needed).");
    }

    private IStepEngine CreateEngine(int maxBatch) => Model is Sequential seq && ExplicitEngine.Supports(seq)
        ? new ExplicitEngine(seq, Loss, _inputFeatures, maxBatch)
        : new AutogradEngine(Model, Loss, _inputFeatures, maxBatch);

    /// <summary>The model.</summary>
    public Module Model { get; }

    /// <summary>How each batch runs: <see cref="ExplicitEngine"/> or <see cref="AutogradEngine"/> (sized on first use when not given).</summary>
    public IStepEngine Engine => _engine ?? TrainingEngine(1, _inputFeatures);

    /// <summary>The loss minimized.</summary>
    public Loss Loss { get; }

    /// <summary>The optimizer; may be replaced between epochs (the textbook switches from SGD to Adam).</summary>
    /// <exception cref="ArgumentException">(set) The optimizer holds none of the model's parameters: it would step other tensors and the model would never learn.</exception>
    public Optimizer Optimizer { get => _optimizer; set => _optimizer = Owned(value); }

    private Optimizer _optimizer;

    /// <summary>
    /// The optimizer, if it steps at least one of the model's parameters (a subset is fine: fine-tuning); one built
    /// over another model's parameters is refused.
    /// </summary>
    private Optimizer Owned(Optimizer optimizer)
    {
        var mine = new HashSet<Tensors.Tensor>(Model.Parameters(), ReferenceEqualityComparer.Instance);
        if (mine.Count > 0 && !optimizer.Parameters.Any(mine.Contains))
            throw new ArgumentException("The optimizer holds none of the model's parameters (was it built for another model?): the model would never learn. Build it over model.Parameters().");
        return optimizer;
    }

    /// <summary>
    /// An absolute bound on an epoch's mean training loss, or null (the default) for the relative one: an epoch whose
    /// mean loss exceeds <see cref="DivergenceFactor"/> × max(1, <see cref="ReferenceLoss"/>) has diverged (as one whose
    /// loss is NaN or infinite has), and ends with <see cref="TrainingDivergedException"/> before any callback (a
    /// checkpoint) sees its weights. Relative, because losses differ by kind and scale: a classifier starts near
    /// ln C, a regression on raw targets in the hundreds near 10⁴ or more.
    /// </summary>
    public double? DivergenceThreshold { get; set; }

    /// <summary>How many times the reference loss an epoch's mean loss may reach before the run counts as diverged (10³).</summary>
    public double DivergenceFactor { get; set; } = 1e3;

    /// <summary>
    /// The loss of the first batch this trainer trained on (the first epoch's mean, where a device reports only totals):
    /// what "diverged" is measured against. Null before any training.
    /// </summary>
    public double? ReferenceLoss { get; private set; }

    /// <summary>
    /// Batches whose losses make <see cref="ReferenceLoss"/>: the first only — its loss is the initial model's, taken
    /// before any update (later ones are already moved by the learning rate, the thing being judged).
    /// </summary>
    public const int ReferenceBatches = 1;

    private double _referenceSum;
    private int _referenceCount;

    /// <summary>Whether a mean loss (an epoch's, or a test pass's) means the run has diverged: not finite, or over the bound.</summary>
    public bool HasDiverged(double loss) =>
        !double.IsFinite(loss) || loss > (DivergenceThreshold ?? (ReferenceLoss is { } r ? DivergenceFactor * Math.Max(1, r) : double.PositiveInfinity));

    private void Observe(float loss)
    {
        if (_referenceCount >= ReferenceBatches || !float.IsFinite(loss)) return;
        _referenceSum += loss;
        ReferenceLoss = _referenceSum / ++_referenceCount;
    }

    /// <summary>If positive, gradients are clipped to this 2-norm before each step.</summary>
    public float MaxGradNorm { get; set; }

    /// <summary>The loss of the last training step (for progress displays).</summary>
    public float LastLoss { get; private set; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>Epochs trained so far (numbers the next epoch's metrics).</summary>
    public int EpochCount { get; private set; }

    /// <summary>
    /// When set, the loops' batches run there (a GPU) instead of on the CPU; the step-level <see cref="Step"/> stays on
    /// the CPU.
    /// </summary>
    public ITrainingEngine? Accelerator { get; set; }

    /// <summary>Where the loops run: <see cref="Accelerator"/>, or the CPU.</summary>
    public ITrainingEngine Device => Accelerator ?? _host;

    /// <summary>
    /// One pass over <paramref name="loader"/>, updating after every batch: the one epoch loop, on whichever
    /// <see cref="Device"/>. When resuming mid-epoch, the first <paramref name="skipBatches"/> batches of the pass are
    /// not trained on (the loader's order must be the interrupted pass's). The callbacks' epoch-begin and step-end
    /// hooks are called (their epoch-end hooks are <see cref="Fit"/>'s, after validation).
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite (at a batch on the CPU, at the
    /// epoch's end on a device that reports totals).</exception>
    public EpochMetrics TrainEpoch(DataLoader loader, int skipBatches = 0, IReadOnlyList<ITrainingCallback>? callbacks = null)
    {
        callbacks ??= [];
        if (skipBatches < 0 || skipBatches > loader.BatchCount)
            throw new ArgumentOutOfRangeException(nameof(skipBatches), $"{skipBatches} batches to skip in an epoch of {loader.BatchCount}.");
        CheckData(loader.Dataset);
        Model.Train();
        var device = Device;
        device.Prepare(loader, Loss);
        int epoch = EpochCount;
        foreach (var cb in callbacks) cb.OnEpochBegin(this, epoch);
        _clock.Restart();
        device.BeginEpoch(loader, loader.BeginPass(), Optimizer, MaxGradNorm, epoch);
        // --threads auto: the context's tuner times the host's steps (a device's are queued, not timed).
        var tuner = Accelerator is null ? Compute.ComputeContext.Current.Tuner : null;
        tuner?.Pause();
        double lossSum = 0;
        int correct = 0, seen = 0;
        for (int b = skipBatches; b < loader.BatchCount; b++)
        {
            foreach (var m in _modules) m.SetStep(epoch, b); // dropout masks are a function of the step
            var r = device.Step(loader, epoch, b);
            if (r.Known)
            {
                if (!float.IsFinite(r.Loss)) throw Diverged(r.Loss, $"epoch {epoch + 1}, batch {b + 1}");
                Observe(r.Loss);
                lossSum += (double)r.Loss * loader.BatchSizeAt(b);
                correct += r.Correct;
            }
            seen += loader.BatchSizeAt(b);
            StepCount++;
            tuner?.StepDone();
            for (int c = 0; c < callbacks.Count; c++) callbacks[c].OnStepEnd(this, epoch, b + 1);
        }
        var totals = device.EndEpoch();
        lossSum += totals.LossSum;
        correct += totals.Correct;
        double seconds = _clock.Elapsed.TotalSeconds;
        EpochCount++;
        double loss = lossSum / Math.Max(seen, 1);
        if (ReferenceLoss is null && double.IsFinite(loss)) (ReferenceLoss, _referenceCount) = (loss, ReferenceBatches); // a device's totals
        if (HasDiverged(loss)) throw Diverged(loss, $"epoch {EpochCount}");
        LastLoss = (float)loss;
        return new EpochMetrics(EpochCount, loss, (double)correct / Math.Max(seen, 1),
            seconds, seen / Math.Max(seconds, 1e-9), Optimizer.LearningRate, null);
    }

    private TrainingDivergedException Diverged(double loss, string where) =>
        new(double.IsFinite(loss) && ReferenceLoss is { } r
            ? $"The mean loss became {loss:G4} at {where}, over {DivergenceFactor:G3} times the first batch's {r:G4}: training diverged. Try a smaller learning rate, or gradient clipping."
            : $"The loss became {loss} at {where}: training diverged. Try a smaller learning rate, or gradient clipping.");

    /// <summary>
    /// One training step on the CPU on a batch: forward, fused loss and dℓ/dlogits, zero the gradients, backward,
    /// update. Returns the batch's mean loss and how many samples were classified right before the update.
    /// </summary>
    public (float Loss, int Correct) Step(float[] features, int[] labels, int size)
    {
        if (size < 1 || size > labels.Length) throw new ArgumentOutOfRangeException(nameof(size), $"A batch of {size} samples with {labels.Length} labels.");
        int width = _inputFeatures != 0 ? _inputFeatures
            : features.Length % labels.Length == 0 ? features.Length / labels.Length
            : throw new ArgumentException("The input width cannot be told from the model or the batch: create the trainer with inputFeatures.");
        // The arrays hold as many rows as labels (a loader's buffers do, and so do a user's): their ratio is the width.
        if (features.Length != labels.Length * width)
            throw new ArgumentException(features.Length % labels.Length == 0
                ? $"The batch has {features.Length / labels.Length} features per sample, but the model takes {width}."
                : $"The batch holds {features.Length} feature values for {labels.Length} labels; the model takes {width} features per sample.");
        var r = HostStep(features, labels, size, width, Optimizer, MaxGradNorm);
        if (float.IsFinite(r.Loss)) StepCount++;
        return r;
    }

    /// <summary>The CPU step, for <see cref="Step"/> and the CPU engine of the loop.</summary>
    internal (float Loss, int Correct) HostStep(float[] features, int[] labels, int size, int width, Optimizer optimizer, float maxGradNorm)
    {
        var engine = TrainingEngine(size, width);
        if (maxGradNorm <= 0 && engine is ExplicitEngine explicitEngine && Fused(optimizer, explicitEngine) is { } fused)
        {
            // The optimizer's step runs inside the backward pass (the same bits as stepping after it).
            var r = explicitEngine.Run(features, labels, size, backward: true, fused);
            LastLoss = r.Loss;
            return r;
        }
        var (loss, correct) = engine.Run(features, labels, size, backward: true);
        LastLoss = loss;
        if (!float.IsFinite(loss)) return (loss, correct);
        if (maxGradNorm > 0) GradClip.ClipGradNorm(optimizer.Parameters, maxGradNorm);
        optimizer.Step();
        return (loss, correct);
    }

    private FusedUpdate? _fused;
    private Optimizer? _fusedChecked;

    /// <summary>
    /// The fused step for <paramref name="optimizer"/>, or null where fusing could differ from stepping after the
    /// backward pass: the optimizer does not hold exactly the model's parameters, or one is used by two layers.
    /// Decided once per optimizer (the textbook switches optimizers between phases).
    /// </summary>
    private FusedUpdate? Fused(Optimizer optimizer, ExplicitEngine engine)
    {
        if (!ReferenceEquals(_fusedChecked, optimizer))
        {
            _fusedChecked = optimizer;
            _fused = engine.CanFuseUpdate && FusedUpdate.Covers(optimizer, Model.Parameters()) ? new FusedUpdate(optimizer) : null;
        }
        return _fused;
    }

    /// <summary>The CPU step of a regression batch: the loss against numeric targets, then the update.</summary>
    internal float HostRegressionStep(float[] features, float[] targets, int size, int width, Optimizer optimizer, float maxGradNorm)
    {
        float loss = LastLoss = TrainingEngine(size, width).RunRegression(features, targets, size, backward: true);
        if (!float.IsFinite(loss)) return loss;
        if (maxGradNorm > 0) GradClip.ClipGradNorm(optimizer.Parameters, maxGradNorm);
        optimizer.Step();
        return loss;
    }

    /// <summary>The CPU engine for evaluation batches of up to <paramref name="batch"/> samples.</summary>
    internal IStepEngine EvaluationEngine(int batch, int width)
    {
        var engine = _engine ?? TrainingEngine(batch, width);
        if (batch <= engine.MaxBatch) return engine;
        if (_evalEngine is null || _evalEngine.MaxBatch < batch) _evalEngine = CreateEngine(batch);
        return _evalEngine;
    }

    /// <summary>The textbook's <c>training_loop</c>: <paramref name="epochs"/> passes, reporting each (and calling <paramref name="callbacks"/> after it).</summary>
    public List<EpochMetrics> TrainingLoop(DataLoader loader, int epochs, Action<EpochMetrics>? onEpoch = null, IReadOnlyList<ITrainingCallback>? callbacks = null) =>
        Fit(loader, EpochCount + epochs, callbacks: [.. onEpoch is null ? [] : new[] { Callback.OnEpochEnd(onEpoch) }, .. callbacks ?? []], startEpoch: EpochCount);

    /// <summary>The textbook's <c>test</c>: loss and accuracy in evaluation mode, without updating (the one test loop).</summary>
    public EvalResult Test(DataLoader loader)
    {
        CheckData(loader.Dataset);
        var device = Device;
        device.Prepare(loader, Loss);
        Model.Eval();
        _clock.Restart();
        device.BeginEvaluation(loader, loader.BeginPass());
        double lossSum = 0;
        int correct = 0, seen = 0;
        for (int b = 0; b < loader.BatchCount; b++)
        {
            var r = device.Evaluate(loader, b);
            if (r.Known)
            {
                lossSum += (double)r.Loss * loader.BatchSizeAt(b);
                correct += r.Correct;
            }
            seen += loader.BatchSizeAt(b);
        }
        var totals = device.EndEvaluation();
        Model.Train();
        return new EvalResult((lossSum + totals.LossSum) / Math.Max(seen, 1), correct + totals.Correct, seen, _clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Trains for up to <paramref name="epochs"/> epochs, evaluating on <paramref name="validation"/> after each
    /// (if given), calling the callbacks and the scheduler, and stopping early if a callback asks to.
    /// </summary>
    /// <remarks>
    /// To resume an interrupted run, pass the epoch it was in as <paramref name="startEpoch"/> and the batches it had
    /// done as <paramref name="skipBatches"/>, with the loader's generator set to its state at that epoch's start.
    /// </remarks>
    public List<EpochMetrics> Fit(DataLoader train, int epochs, DataLoader? validation = null,
        IReadOnlyList<ITrainingCallback>? callbacks = null, LRScheduler? scheduler = null, int startEpoch = 0, int skipBatches = 0)
    {
        var history = new List<EpochMetrics>();
        callbacks ??= [];
        if (epochs < 0 || startEpoch < 0 || startEpoch > epochs)
            throw new ArgumentOutOfRangeException(nameof(epochs), $"Epochs {startEpoch} to {epochs}: a run goes from a start epoch ≥ 0 up to at least it.");
        for (int e = startEpoch; e < epochs; e++)
        {
            EpochCount = e;
            var m = TrainEpoch(train, e == startEpoch ? skipBatches : 0, callbacks);
            if (validation is not null) m = m with { Validation = Test(validation) };
            history.Add(m);
            scheduler?.Step(m.Validation?.Loss ?? m.TrainLoss);
            bool stop = false;
            foreach (var cb in callbacks) cb.OnEpochEnd(this, m, ref stop);
            if (stop) break;
        }
        foreach (var cb in callbacks) cb.OnTrainEnd(this);
        return history;
    }
}
