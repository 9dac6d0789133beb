using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;

namespace Nabla.Training;

/// <summary>
/// Every random choice of a run, derived from its one seed in one place: the initial weights, the shuffling, the
/// validation split and the dropout masks each draw from their own generator, so changing one (say, adding a
/// validation split) does not move the others.
/// </summary>
/// <param name="Seed">The run's seed (<c>--seed</c>; 42 by default, as the textbook's PyTorch script).</param>
public readonly record struct RunSeeds(ulong Seed)
{
    /// <summary>The initial weights' generator (the textbook's <c>torch.manual_seed</c>).</summary>
    public Rng Weights() => new(Seed);

    /// <summary>The shuffling generator (the DataLoader's <c>generator</c>).</summary>
    public Rng Shuffle() => new(Seed ^ 0x5DEECE66DUL);

    /// <summary>The generator that picks the validation split.</summary>
    public Rng Split() => new(Seed ^ 0xA5A5A5A5UL);

    /// <summary>The generator that holds out a single table's test rows (<see cref="HoldOut"/>).</summary>
    public Rng TestSplit() => new(Seed ^ 0x7E57UL);

    /// <summary>The generator that seeds the dropout layers.</summary>
    public Rng Dropout() => new(Seed ^ 0xD00DUL);
}

/// <summary>
/// A training run of a <see cref="TrainConfig"/> on a dataset, built in one place for every front end: the split,
/// the model, the optimizer, the trainer, the loaders, early stopping, checkpoints and resuming. The command line's
/// <c>train</c> is this class plus printing.
/// </summary>
public sealed class TrainingRun
{
    private readonly RandomSampler _sampler;
    private ulong[] _epochShuffle;
    private readonly string _configJson;
    private readonly int _inputFeatures;

    private TrainingRun(TrainConfig config, IDataset train, Subset? validation, IDataset fitSet, TablePreprocessor? preprocessor)
    {
        Config = config;
        _inputFeatures = train.Features;
        Fingerprint = FingerprintOf(train);
        var seeds = new RunSeeds(config.Seed);
        Model = BuildModel(config, train, preprocessor, seeds);
        var optimizer = OptimizerFactory.Create(config.Optimizer, Model.Parameters(), config.LearningRate, config.Momentum, config.WeightDecay, config.L1);
        // A batch larger than the data is one batch of all of it: the buffers need not be larger than that.
        int batch = Math.Min(config.BatchSize, fitSet.Count);
        Trainer = new Trainer(Model, LossOf(config, train, Model), optimizer, train.Features, batch) { MaxGradNorm = config.ClipGradNorm };
        _sampler = new RandomSampler(seeds.Shuffle());
        Loader = new DataLoader(fitSet, batch, _sampler);
        ValidationLoader = validation is null ? null : new DataLoader(validation, Math.Min(config.BatchSize, validation.Count));
        Stopper = config.EarlyStopping > 0 ? new EarlyStopping(config.EarlyStopping) : null;
        Convergence = config.ConvergenceTolerance > 0 ? new ConvergenceStopping(config.ConvergenceTolerance) : null;
        Scheduler = config.Schedule switch
        {
            LearningRateSchedule.Cosine => new CosineAnnealingLR(optimizer, config.Epochs),
            LearningRateSchedule.Plateau => new ReduceLROnPlateau(optimizer, patience: config.SchedulePatience),
            _ => null,
        };
        _epochShuffle = _sampler.Rng.GetState();
        _configJson = config.ToJson();
    }

    /// <summary>
    /// The MLP of the configuration; on a table, its first layer is the table's <see cref="ColumnTransformer"/> (in
    /// Flatten's place, so the Linear layers keep PyTorch's indices); for a regression on standardized targets, its last
    /// is the <see cref="Rescaling"/> back to the targets' units.
    /// </summary>
    private static Sequential BuildModel(TrainConfig config, IDataset train, TablePreprocessor? preprocessor, RunSeeds seeds)
    {
        int inputs = preprocessor?.OutputWidth ?? train.Features;
        var mlp = new MlpArchitecture(inputs, config.Hidden, config.Activation, Outputs(config, train), config.Dropout).Create(seeds.Weights(), seeds.Dropout());
        var layers = mlp.Layers.ToList();
        if (preprocessor is not null) layers[0] = new ColumnTransformer(preprocessor);
        if (TargetStatistics(config, train) is var (mean, std)) layers.Add(new Rescaling(std, mean));
        return layers.Count == mlp.Layers.Count && preprocessor is null ? mlp : new Sequential([.. layers]);
    }

    /// <summary>The targets' means and standard deviations (population; 1 for a constant target), when the run standardizes them.</summary>
    private static (float[] Mean, float[] Std)? TargetStatistics(TrainConfig config, IDataset train)
    {
        if (config.Task != TrainTask.Regression || !config.StandardizeTargets) return null;
        int t = train.Targets, n = train.Count;
        var sum = new double[t];
        var sq = new double[t];
        var row = new float[t];
        for (int i = 0; i < n; i++)
        {
            train.GatherTargets([i], row);
            for (int j = 0; j < t; j++) sum[j] += row[j];
        }
        var mean = sum.Select(v => v / n).ToArray();
        for (int i = 0; i < n; i++)
        {
            train.GatherTargets([i], row);
            for (int j = 0; j < t; j++) sq[j] += (row[j] - mean[j]) * (row[j] - mean[j]);
        }
        return ([.. mean.Select(m => (float)m)], [.. sq.Select(v => Math.Sqrt(v / n) is var sd && sd > 0 ? (float)sd : 1f)]);
    }

    /// <summary>
    /// The loss: cross-entropy (class-weighted if asked), or the mean squared error — in standard deviations of each
    /// target when the model ends in a Rescaling (weights 1/σ²), which is the error on standardized targets.
    /// </summary>
    private static Loss LossOf(TrainConfig config, IDataset train, Sequential model)
    {
        if (config.Task == TrainTask.Regression)
            return model.Layers[^1] is Rescaling r ? new MseLoss([.. r.Scale.Select(s => 1f / (s * s))]) : new MseLoss();
        if (config.ClassWeight == ClassWeighting.Balanced)
        {
            var labels = new int[train.Count];
            for (int i = 0; i < labels.Length; i++) labels[i] = train.Label(i);
            return new CrossEntropyLoss(weight: CrossEntropyLoss.BalancedWeights(labels, train.Classes));
        }
        return new CrossEntropyLoss();
    }

    /// <summary>The learning-rate schedule the configuration asks for, or null; stepped after every epoch by <see cref="Fit"/>.</summary>
    public LRScheduler? Scheduler { get; }

    /// <summary>Builds the run of <paramref name="config"/> on <paramref name="train"/> (split off a validation set if asked).</summary>
    /// <exception cref="ArgumentException">The configuration is invalid; the message says which setting.</exception>
    /// <exception cref="InsufficientMemoryException">The model and its buffers would not fit in the memory this process may use.</exception>
    /// <param name="config">The configuration.</param>
    /// <param name="train">The training data; raw table rows when <paramref name="preprocessor"/> is given.</param>
    /// <param name="preprocessor">A table's fitted preprocessing: the model's first layer (<see cref="ColumnTransformer"/>).</param>
    public static TrainingRun Create(TrainConfig config, IDataset train, TablePreprocessor? preprocessor = null)
    {
        if (preprocessor is not null && preprocessor.InputWidth != train.Features)
            throw new ArgumentException($"The table's preprocessing takes {preprocessor.InputWidth} columns; the data has {train.Features}.");
        if (config.Check() is { } problem) throw new ArgumentException($"{problem.Message} ({string.Join(", ", problem.Settings)}).");
        if (train.Count == 0) throw new DataFormatException("The training set is empty.");
        if (config.Task == TrainTask.Regression && train.Targets == 0) throw new DataFormatException("Regression needs numeric targets; the data has class labels.");
        if (config.Task == TrainTask.Classification && train.Targets > 0) throw new DataFormatException("The data has numeric targets: train it as a regression.");
        CheckMemory(config, train, preprocessor?.OutputWidth ?? train.Features);
        IDataset fitSet = train;
        Subset? validation = null;
        if (config.ValidationSplit > 0)
        {
            int n = Math.Max(1, (int)Math.Round(train.Count * config.ValidationSplit));
            if (n >= train.Count)
                throw new DataFormatException($"A validation split of {config.ValidationSplit} holds out {n} of the {train.Count} training samples, leaving none to train on.");
            (var rest, validation) = Subset.RandomSplit(train, n, new RunSeeds(config.Seed).Split());
            fitSet = rest;
        }
        return new TrainingRun(config, train, validation, fitSet, preprocessor);
    }

    /// <summary>The configuration (of the current phase, after <see cref="NextPhase"/>).</summary>
    public TrainConfig Config { get; private set; }

    /// <summary>The model's outputs: one per class, or one per numeric target.</summary>
    private static int Outputs(TrainConfig config, IDataset data) => config.Task == TrainTask.Regression ? data.Targets : data.Classes;

    /// <summary>
    /// Which training data this run is on: its size, shape, classes and a hash of its labels. Checkpoints record it,
    /// and <see cref="Resume"/> refuses a checkpoint made on other data.
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>The fingerprint of <paramref name="data"/> (FNV-1a over the labels: cheap, and any other data differs).</summary>
    public static string FingerprintOf(IDataset data)
    {
        ulong h = 0xCBF29CE484222325UL;
        for (int i = 0; i < data.Count; i++) h = (h ^ (uint)data.Label(i)) * 0x100000001B3UL;
        if (data.Targets == 0) return $"{data.Count}x{data.Features}, {data.Classes} classes, labels {h:x16}";
        // Regression: the targets' bits stand in for the labels.
        var targets = new float[data.Targets];
        for (int i = 0; i < data.Count; i++)
        {
            data.GatherTargets([i], targets);
            foreach (float t in targets) h = (h ^ BitConverter.SingleToUInt32Bits(t)) * 0x100000001B3UL;
        }
        return $"{data.Count}x{data.Features}, {data.Targets} targets, targets {h:x16}";
    }

    /// <summary>
    /// Refuses, before anything is allocated, a configuration whose model, optimizer state and batch buffers would
    /// not fit in the memory this process may use (a mistyped --hidden 99999999 must not start allocating).
    /// </summary>
    private static void CheckMemory(TrainConfig config, IDataset train, int inputs)
    {
        long[] widths = [inputs, .. config.Hidden, Math.Max(Outputs(config, train), 1)];
        long parameters = 0;
        for (int i = 1; i < widths.Length; i++) parameters += widths[i - 1] * widths[i] + widths[i];
        string shape = string.Join('-', widths);
        if (parameters > LayerPlan.MaxParameters)
            throw new InsufficientMemoryException($"The model {shape} has {parameters:N0} parameters; at most {LayerPlan.MaxParameters:N0} are supported. Use narrower layers.");
        int batch = Math.Min(config.BatchSize, train.Count);
        // Weights, gradients and up to three optimizer buffers; per layer an output and a gradient buffer per sample.
        double bytes = 4.0 * parameters * 5 + 4.0 * 3 * batch * widths.Sum();
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > 0.8 * available)
            throw new InsufficientMemoryException(
                $"The model {shape} ({parameters:N0} parameters) with a batch of {batch} needs about {bytes / (1 << 30):F1} GiB; this process may use {available / (double)(1 << 30):F1} GiB. Use narrower layers or a smaller batch.");
    }

    /// <summary>The model.</summary>
    public Sequential Model { get; }

    /// <summary>The trainer (set its <see cref="Trainer.Accelerator"/> to train on a GPU).</summary>
    public Trainer Trainer { get; }

    /// <summary>The training loader (the training set less the validation split), shuffled by the run's seed.</summary>
    public DataLoader Loader { get; }

    /// <summary>The validation loader, when the configuration splits one off.</summary>
    public DataLoader? ValidationLoader { get; }

    /// <summary>Early stopping, when configured.</summary>
    public EarlyStopping? Stopper { get; }

    /// <summary>The stop once the training loss has converged, when configured.</summary>
    public ConvergenceStopping? Convergence { get; }

    /// <summary>Where <see cref="Fit"/> writes its checkpoint (atomically, after every epoch), or null.</summary>
    public string? CheckpointPath { get; set; }

    /// <summary>With <see cref="CheckpointPath"/>: also checkpoint every this many steps (0: epoch ends only).</summary>
    public int CheckpointEvery { get; set; }

    /// <summary>The epoch <see cref="Fit"/> starts at (0, or where a resumed checkpoint stood).</summary>
    public int StartEpoch { get; private set; }

    /// <summary>Batches of <see cref="StartEpoch"/> already trained on (a checkpoint taken mid-epoch).</summary>
    public int SkipBatches { get; private set; }

    /// <summary>
    /// Loads a checkpoint of this run (weights, optimizer buffers, early stopping, shuffle state and position), so
    /// that <see cref="Fit"/> continues exactly where it stopped.
    /// </summary>
    /// <exception cref="DataFormatException">The checkpoint does not fit this run.</exception>
    public CheckpointState Resume(string path)
    {
        var peek = Checkpoint.ReadState(path);
        if (peek.Dataset is not null && peek.Dataset != Fingerprint)
            throw new DataFormatException($"{path} was made on other training data ({peek.Dataset}); this run's is {Fingerprint}. Resume it on the data it was made on.");
        if (peek.Epoch > Config.Epochs)
            throw new DataFormatException($"{path} has done {peek.Epoch} epochs; this run asks for {Config.Epochs}. Ask for at least {peek.Epoch}.");
        if (peek.Batch > Loader.BatchCount) // == BatchCount: every step of the epoch done, its end not yet
            throw new DataFormatException($"{path} stands at batch {peek.Batch} of an epoch of {Loader.BatchCount} batches: it does not belong to this run.");
        var state = Checkpoint.Restore(path, Model, Trainer.Optimizer, Stopper, Scheduler, Convergence);
        _sampler.Rng.SetState(state.EpochShuffleRng);
        _epochShuffle = state.EpochShuffleRng;
        (StartEpoch, SkipBatches) = (state.Epoch, state.Batch);
        if (Stopper is { StoppedEpoch: > 0 }) StartEpoch = Config.Epochs; // it had stopped early: only restore the best weights
        if (Convergence is { StoppedEpoch: > 0 }) StartEpoch = Config.Epochs; // it had converged: nothing left to train
        return state;
    }

    /// <summary>
    /// Trains from <see cref="StartEpoch"/> to the configured number of epochs, validating, stopping early, and
    /// checkpointing as configured; <paramref name="callbacks"/> run first, then early stopping, then the checkpoint
    /// (so that an epoch-end checkpoint holds the stopper's verdict on that epoch).
    /// </summary>
    public List<EpochMetrics> Fit(IEnumerable<ITrainingCallback>? callbacks = null)
    {
        var all = new List<ITrainingCallback>(callbacks ?? []);
        if (Stopper is not null) all.Add(Stopper);
        if (Convergence is not null) all.Add(Convergence);
        if (CheckpointPath is not null) all.Add(new Checkpointing(this));
        return Trainer.Fit(Loader, Config.Epochs, ValidationLoader, all, Scheduler, startEpoch: StartEpoch, skipBatches: SkipBatches);
    }

    /// <summary>
    /// Trains on <paramref name="device"/> when it can run this run's model and loss. When it cannot, the run stays on
    /// the CPU and the reason is returned — or, if <paramref name="required"/>, thrown.
    /// </summary>
    /// <returns>Null when the device took the run; else why it stayed on the CPU.</returns>
    /// <exception cref="NotSupportedException"><paramref name="required"/>, and the device cannot run it; the message says why.</exception>
    public string? UseDevice(IAcceleratorFactory device, bool required)
    {
        ArgumentNullException.ThrowIfNull(device);
        try
        {
            Trainer.Accelerator = device.Create(Trainer, _inputFeatures, Loader.BatchSize);
            return null;
        }
        catch (NotSupportedException e) when (!required)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Starts another phase on the same model (the textbook's experiment: SGD for 10 epochs, then Adam for 3): a new
    /// optimizer of <paramref name="optimizer"/> with <paramref name="learningRate"/> (null: its PyTorch default) for
    /// <paramref name="epochs"/> more epochs, the shuffling continuing where the last phase left it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The run has a learning-rate schedule, which belongs to one optimizer.</exception>
    public void NextPhase(OptimizerKind optimizer, float? learningRate, int epochs)
    {
        if (Scheduler is not null) throw new InvalidOperationException("A run with a learning-rate schedule has one phase: the schedule belongs to its optimizer.");
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        Trainer.Optimizer = OptimizerFactory.Create(optimizer, Model.Parameters(), learningRate, Config.Momentum, Config.WeightDecay, Config.L1);
        (StartEpoch, SkipBatches) = (Config.Epochs, 0);
        Config = Config with { Optimizer = optimizer, LearningRate = learningRate, Epochs = Config.Epochs + epochs };
    }

    /// <summary>
    /// Ends a phase: the test pass on <paramref name="test"/> (and, for a regression, RMSE, MAE and R² per target
    /// named in <paramref name="targetNames"/>), after checking that training did not diverge.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The test loss is not finite, or far above the first batch's.</exception>
    public RunResult Finish(IDataset test, IReadOnlyList<EpochMetrics> history, IReadOnlyList<string>? targetNames = null)
    {
        var result = Trainer.Test(new DataLoader(test, Math.Min(Config.BatchSize, Math.Max(test.Count, 1))));
        if (Trainer.HasDiverged(result.Loss))
            throw new TrainingDivergedException($"The test loss is {result.Loss}: training diverged.");
        var regression = Config.Task == TrainTask.Regression
            ? RegressionReport.Evaluate(Model, test, targetNames ?? [.. Enumerable.Range(0, test.Targets).Select(j => $"target {j}")])
            : null;
        return new RunResult(history, result, regression, Stopper is { StoppedEpoch: > 0 } s ? s.StoppedEpoch : null,
            Convergence is { StoppedEpoch: > 0 } c ? c.StoppedEpoch : null, Trainer.Accelerator?.Description ?? "cpu");
    }

    private void SaveCheckpoint(int epoch, int batch) =>
        Checkpoint.Save(CheckpointPath!, Model, Trainer.Optimizer, new CheckpointState(epoch, batch, _epochShuffle, null, _configJson, Fingerprint), Stopper, Scheduler, Convergence);

    /// <summary>Writes the run's checkpoint at epoch ends and every <see cref="CheckpointEvery"/> steps.</summary>
    private sealed class Checkpointing(TrainingRun run) : ITrainingCallback
    {
        // The shuffle state at the start of an epoch is what a resumed run needs to redraw that epoch's order.
        public void OnEpochBegin(Trainer trainer, int epoch) => run._epochShuffle = run._sampler.Rng.GetState();

        public void OnStepEnd(Trainer trainer, int epoch, int batchesDone)
        {
            if (run.CheckpointEvery > 0 && batchesDone % run.CheckpointEvery == 0) run.SaveCheckpoint(epoch, batchesDone);
        }

        public void OnEpochEnd(Trainer trainer, EpochMetrics metrics, ref bool stop)
        {
            run._epochShuffle = run._sampler.Rng.GetState(); // the next epoch starts from here
            run.SaveCheckpoint(metrics.Epoch, 0);
        }
    }
}
