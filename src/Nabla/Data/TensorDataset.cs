namespace Nabla.Data;

/// <summary>Samples already as floats, one row each, with integer labels (torch.utils.data.TensorDataset).</summary>
public sealed class TensorDataset : IDataset
{
    private readonly ReadOnlyMemory<float> _features;
    private readonly int[] _labels;

    /// <summary>Wraps <paramref name="features"/> (count × featuresPerSample) and labels.</summary>
    /// <exception cref="ArgumentException">Sizes disagree, or a label is outside [0, classes).</exception>
    public TensorDataset(float[] features, int[] labels, int featuresPerSample, IReadOnlyList<string> classNames)
        : this((ReadOnlyMemory<float>)features, labels, featuresPerSample, classNames) { }

    /// <summary>
    /// Wraps features held anywhere (a memory-mapped file: every process on a host reads the page cache's one copy);
    /// they must not change while the dataset is used.
    /// </summary>
    /// <exception cref="ArgumentException">Sizes disagree, or a label is outside [0, classes).</exception>
    public TensorDataset(ReadOnlyMemory<float> features, int[] labels, int featuresPerSample, IReadOnlyList<string> classNames)
    {
        if (featuresPerSample < 1 || features.Length != labels.Length * featuresPerSample)
            throw new ArgumentException($"{features.Length} feature values do not make {labels.Length} samples of {featuresPerSample}.");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentException($"Label {labels[i]} at index {i} is outside [0, {classNames.Count}).");
        _features = features;
        _labels = labels;
        Features = featuresPerSample;
        ClassNames = classNames;
    }

    /// <summary>The features, count × <see cref="Features"/> (an array, or a mapped file's pages).</summary>
    internal ReadOnlyMemory<float> FeatureMemory => _features;

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <inheritdoc/>
    public int Features { get; }

    /// <inheritdoc/>
    public int Classes => ClassNames.Count;

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc/>
    public bool GathersOnAnyThread => true;

    /// <inheritdoc/>
    public int Label(int index) => _labels[index];

    /// <inheritdoc/>
    public void Gather(ReadOnlySpan<int> indices, Span<float> features, Span<int> labels)
    {
        var all = _features.Span;
        for (int r = 0; r < indices.Length; r++)
        {
            all.Slice(indices[r] * Features, Features).CopyTo(features.Slice(r * Features, Features));
            labels[r] = _labels[indices[r]];
        }
    }
}
