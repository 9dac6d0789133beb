using Nabla.Compute;
using Nabla.Tensors;

namespace Nabla.Data;

/// <summary>One batch: views of the loader's reused buffers, valid until the loader moves on.</summary>
/// <param name="Features">(Size, Features) row-major; the array may be longer than the batch.</param>
/// <param name="Labels">Size labels; the array may be longer.</param>
/// <param name="Size">Samples in this batch.</param>
public readonly record struct Batch(float[] Features, int[] Labels, int Size)
{
    /// <summary>Features per sample (set by the loader).</summary>
    public int Width { get; init; }

    /// <summary>Numeric targets (Size × TargetWidth, row-major; the array may be longer) for regression; null for classification.</summary>
    public float[]? Targets { get; init; }

    /// <summary>Targets per sample (0 for classification).</summary>
    public int TargetWidth { get; init; }

    /// <summary>
    /// The batch's inputs as a (Size, Width) tensor of their own — the right size for the short last batch too (a
    /// copy: the loader's buffers are reused). For writing your own loop: <c>foreach (var (x, y) in loader)</c>.
    /// </summary>
    public Tensor X => Tensor.FromArray(Features.AsSpan(0, Size * Width).ToArray(), Size, Width);

    /// <summary>The batch's labels, exactly Size of them (a copy).</summary>
    public int[] Y => Labels.AsSpan(0, Size).ToArray();

    /// <summary><c>var (x, y) = batch</c>: <see cref="X"/> and <see cref="Y"/>.</summary>
    public void Deconstruct(out Tensor x, out int[] y) => (x, y) = (X, Y);
}

/// <summary>
/// Batches a dataset (torch.utils.data.DataLoader): the sampler orders the indices at the start of each pass,
/// then each batch is gathered into two buffers allocated once. Iterating with <c>foreach</c> allocates nothing.
/// </summary>
public sealed class DataLoader
{
    private readonly int[] _order;
    private float[] _features;
    private int[] _labels;
    private float[]? _targets;
    // The spare buffers a posted gather fills (GatherAhead), swapped in by LoadBatch; allocated on first use.
    private float[] _aheadFeatures = [];
    private int[] _aheadLabels = [];
    private float[]? _aheadTargets;
    private int _ahead = -1; // the batch being gathered into them, or −1
    private bool _passStarted; // the order of a pass has been drawn: LoadBatch may gather
    private WorkerPool? _aheadPool;
    private AheadTask? _aheadTask;

    /// <summary>Creates a loader; <paramref name="sampler"/> defaults to sequential order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The batch size is below 1.</exception>
    public DataLoader(IDataset dataset, int batchSize, ISampler? sampler = null, bool dropLast = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch_size must be ≥ 1; got {batchSize}.");
        Dataset = dataset;
        BatchSize = batchSize;
        Sampler = sampler ?? new SequentialSampler();
        DropLast = dropLast;
        _order = new int[dataset.Count];
        _features = new float[batchSize * dataset.Features];
        _labels = new int[batchSize];
        if (dataset.Targets > 0) _targets = new float[batchSize * dataset.Targets];
    }

    /// <summary>A shuffling loader whose permutations come from <paramref name="rng"/> (shuffle=True, generator=g).</summary>
    public static DataLoader Shuffled(IDataset dataset, int batchSize, Rng rng, bool dropLast = false) =>
        new(dataset, batchSize, new RandomSampler(rng), dropLast);

    /// <summary>The dataset.</summary>
    public IDataset Dataset { get; }

    /// <summary>Samples per batch (the last may be smaller unless <see cref="DropLast"/>).</summary>
    public int BatchSize { get; }

    /// <summary>The order of each pass.</summary>
    public ISampler Sampler { get; }

    /// <summary>Whether a last, incomplete batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>Batches per pass.</summary>
    public int BatchCount => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>Starts a pass: asks the sampler for this pass's order.</summary>
    public Enumerator GetEnumerator()
    {
        DropAhead();
        Sampler.FillOrder(_order);
        _passStarted = true;
        return new Enumerator(this);
    }

    /// <summary>
    /// Starts a pass without enumerating it: asks the sampler for this pass's order and returns it (valid until the
    /// next pass). <see cref="LoadBatch"/> then gathers any batch of it; a device takes the order itself.
    /// </summary>
    public ReadOnlySpan<int> BeginPass()
    {
        DropAhead();
        Sampler.FillOrder(_order);
        _passStarted = true;
        return _order;
    }

    /// <summary>Samples in batch <paramref name="index"/> of a pass.</summary>
    public int BatchSizeAt(int index) => Math.Min(BatchSize, Dataset.Count - index * BatchSize);

    /// <summary>Gathers batch <paramref name="index"/> of the pass <see cref="BeginPass"/> started into the loader's buffers.</summary>
    /// <exception cref="InvalidOperationException">No pass was started: the order is not drawn yet.</exception>
    public Batch LoadBatch(int index)
    {
        if (!_passStarted)
            throw new InvalidOperationException("LoadBatch before BeginPass: call loader.BeginPass() first (it draws the pass's order), or iterate with foreach.");
        if (index < 0 || index >= BatchCount) throw new ArgumentOutOfRangeException(nameof(index), $"Batch {index} is outside [0, {BatchCount}).");
        if (_ahead >= 0)
        {
            bool hit = _ahead == index;
            DropAhead();
            if (hit)
            {
                (_features, _aheadFeatures) = (_aheadFeatures, _features);
                (_labels, _aheadLabels) = (_aheadLabels, _labels);
                (_targets, _aheadTargets) = (_aheadTargets, _targets);
                return Current(index);
            }
        }
        return Load(index);
    }

    /// <summary>
    /// Starts gathering batch <paramref name="index"/> of this pass on a worker of <paramref name="pool"/>
    /// (<see cref="WorkerPool.Post"/>), into spare buffers that <see cref="LoadBatch"/>(index) then swaps in: the
    /// next batch is gathered while the current one trains. The batch is the same whichever thread gathers it. Does
    /// nothing for a dataset that must be gathered on the caller's thread (<see cref="IDataset.GathersOnAnyThread"/>),
    /// for an index outside the pass, or while the pool holds another posted task. Batches returned before stay
    /// valid until the next <see cref="LoadBatch"/>.
    /// </summary>
    public void GatherAhead(int index, WorkerPool pool)
    {
        if (!_passStarted || index < 0 || index >= BatchCount || !Dataset.GathersOnAnyThread || _ahead >= 0) return;
        if (_aheadFeatures.Length == 0)
        {
            _aheadFeatures = new float[_features.Length];
            _aheadLabels = new int[_labels.Length];
            if (_targets is not null) _aheadTargets = new float[_targets.Length];
        }
        _aheadTask ??= new AheadTask(this);
        _aheadTask.Index = index;
        // Behind the caller's next parallel job (a step's first GEMM), so that the workers help with that first. The
        // pool holds one posted task: if another loader's is pending (a warm-up beside the run), gather as usual.
        if (!pool.TryPost(_aheadTask, afterNextJob: true)) return;
        _ahead = index;
        _aheadPool = pool;
    }

    /// <summary>Waits for a posted gather and forgets it (a new pass, or a batch other than the one gathered).</summary>
    private void DropAhead()
    {
        if (_ahead < 0) return;
        _aheadPool!.Join();
        _ahead = -1;
    }

    /// <summary>The posted gather: batch Index into the spare buffers, and a prefetch hint for the one after.</summary>
    private sealed class AheadTask(DataLoader loader) : IParallelBody
    {
        public int Index;

        public void Run(int part) => loader.Fill(Index, loader._aheadFeatures, loader._aheadLabels, loader._aheadTargets);
    }

    private Batch Load(int index)
    {
        Fill(index, _features, _labels, _targets);
        return Current(index);
    }

    /// <summary>Gathers batch <paramref name="index"/> into the given buffers and hints the one after it.</summary>
    private void Fill(int index, float[] features, int[] labels, float[]? targets)
    {
        int start = index * BatchSize;
        int size = Math.Min(BatchSize, Dataset.Count - start);
        Dataset.Gather(_order.AsSpan(start, size), features, labels);
        if (targets is not null) Dataset.GatherTargets(_order.AsSpan(start, size), targets);
        int next = start + size;
        if (next < Dataset.Count) Dataset.Prefetch(_order.AsSpan(next, Math.Min(BatchSize, Dataset.Count - next)));
    }

    /// <summary>Batch <paramref name="index"/> as the current buffers hold it.</summary>
    private Batch Current(int index)
    {
        int size = BatchSizeAt(index);
        return new Batch(_features, _labels, size) { Width = Dataset.Features, Targets = _targets, TargetWidth = Dataset.Targets };
    }

    /// <summary>The batches of one pass.</summary>
    public struct Enumerator
    {
        private readonly DataLoader _loader;
        private int _index;

        internal Enumerator(DataLoader loader)
        {
            _loader = loader;
            _index = -1;
            Current = default;
        }

        /// <summary>The current batch.</summary>
        public Batch Current { get; private set; }

        /// <summary>Loads the next batch.</summary>
        public bool MoveNext()
        {
            if (++_index >= _loader.BatchCount) return false;
            Current = _loader.LoadBatch(_index);
            return true;
        }
    }
}
