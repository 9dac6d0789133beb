namespace Nabla.Data;

/// <summary>The samples of another dataset at given indices (torch.utils.data.Subset).</summary>
public sealed class Subset : IDataset
{
    private readonly IDataset _source;
    private readonly int[] _indices;
    private int[] _mapped = [];

    /// <summary>Selects <paramref name="indices"/> of <paramref name="source"/>.</summary>
    public Subset(IDataset source, int[] indices)
    {
        foreach (int i in indices)
            if ((uint)i >= (uint)source.Count) throw new ArgumentOutOfRangeException(nameof(indices), $"Index {i} is outside a dataset of {source.Count}.");
        _source = source;
        _indices = indices;
    }

    /// <summary>
    /// Splits <paramref name="source"/> at random into a training part and a validation part of
    /// <paramref name="validationCount"/> samples (torch.utils.data.random_split), using <paramref name="rng"/>.
    /// </summary>
    public static (Subset Train, Subset Validation) RandomSplit(IDataset source, int validationCount, Tensors.Rng rng)
    {
        if (validationCount < 0 || validationCount >= source.Count)
            throw new ArgumentOutOfRangeException(nameof(validationCount), $"A validation split of {validationCount} does not fit a dataset of {source.Count}.");
        var order = new int[source.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        rng.Shuffle(order);
        return (new Subset(source, order[validationCount..]), new Subset(source, order[..validationCount]));
    }

    /// <inheritdoc/>
    public int Count => _indices.Length;

    /// <inheritdoc/>
    public int Features => _source.Features;

    /// <inheritdoc/>
    public int Classes => _source.Classes;

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames => _source.ClassNames;

    /// <inheritdoc/>
    public int Label(int index) => _source.Label(_indices[index]);

    /// <inheritdoc/>
    public void Prefetch(ReadOnlySpan<int> indices)
    {
        if (_mapped.Length < indices.Length) return; // sized by the first Gather
        _source.Prefetch(Map(indices));
    }

    /// <inheritdoc/>
    public bool GathersOnAnyThread => _source.GathersOnAnyThread;

    /// <inheritdoc/>
    public int Targets => _source.Targets;

    /// <inheritdoc/>
    public void GatherTargets(ReadOnlySpan<int> indices, Span<float> targets) => _source.GatherTargets(Map(indices), targets);

    /// <inheritdoc/>
    public void Gather(ReadOnlySpan<int> indices, Span<float> features, Span<int> labels) => _source.Gather(Map(indices), features, labels);

    /// <summary>The source's indices of <paramref name="indices"/>, in a buffer that grows once, to the batch size.</summary>
    private ReadOnlySpan<int> Map(ReadOnlySpan<int> indices)
    {
        if (_mapped.Length < indices.Length) _mapped = new int[indices.Length];
        var m = _mapped.AsSpan(0, indices.Length);
        for (int r = 0; r < indices.Length; r++) m[r] = _indices[indices[r]];
        return m;
    }
}
