namespace Nabla.Data;

/// <summary>
/// Samples with numeric targets (one or more per sample) for regression: features and targets as floats, row-major.
/// It has no classes: labels are all 0; the trainer reads <see cref="GatherTargets"/>.
/// </summary>
public sealed class RegressionDataset : IDataset
{
    private readonly ReadOnlyMemory<float> _features, _targets;

    /// <summary>Wraps count × <paramref name="featuresPerSample"/> features and count × <paramref name="targetNames"/>.Count targets.</summary>
    /// <exception cref="ArgumentException">Sizes disagree, or a value is not finite.</exception>
    public RegressionDataset(float[] features, float[] targets, int featuresPerSample, IReadOnlyList<string> targetNames)
        : this((ReadOnlyMemory<float>)features, targets, featuresPerSample, targetNames) { }

    /// <summary>
    /// Wraps features and targets held anywhere (a memory-mapped file: every process on a host reads the page cache's
    /// one copy); they must not change while the dataset is used.
    /// </summary>
    /// <exception cref="ArgumentException">Sizes disagree, or a value is not finite.</exception>
    public RegressionDataset(ReadOnlyMemory<float> features, ReadOnlyMemory<float> targets, int featuresPerSample, IReadOnlyList<string> targetNames)
    {
        if (featuresPerSample < 1 || targetNames.Count < 1 || features.Length % featuresPerSample != 0
            || targets.Length != features.Length / featuresPerSample * targetNames.Count)
            throw new ArgumentException($"{features.Length} feature and {targets.Length} target values do not make samples of {featuresPerSample} features and {targetNames.Count} targets.");
        if (!TensorPrimitives.IsFiniteAll<float>(targets.Span)) throw new ArgumentException("A target is not a finite number.");
        (_features, _targets, Features, TargetNames) = (features, targets, featuresPerSample, targetNames);
    }

    /// <summary>The targets' names.</summary>
    public IReadOnlyList<string> TargetNames { get; }

    /// <inheritdoc/>
    public int Count => _features.Length / Features;

    /// <inheritdoc/>
    public int Features { get; }

    /// <inheritdoc/>
    public int Classes => 0;

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames => [];

    /// <inheritdoc/>
    public int Targets => TargetNames.Count;

    /// <inheritdoc/>
    public int Label(int index) => 0;

    /// <inheritdoc/>
    public bool GathersOnAnyThread => true;

    /// <inheritdoc/>
    public void Gather(ReadOnlySpan<int> indices, Span<float> features, Span<int> labels)
    {
        var all = _features.Span;
        for (int r = 0; r < indices.Length; r++)
        {
            all.Slice(indices[r] * Features, Features).CopyTo(features.Slice(r * Features, Features));
            labels[r] = 0;
        }
    }

    /// <inheritdoc/>
    public void GatherTargets(ReadOnlySpan<int> indices, Span<float> targets)
    {
        int t = Targets;
        var all = _targets.Span;
        for (int r = 0; r < indices.Length; r++) all.Slice(indices[r] * t, t).CopyTo(targets.Slice(r * t, t));
    }

    /// <summary>A copy whose features went through <paramref name="scale"/> (in place on the copy).</summary>
    public RegressionDataset WithFeatures(Action<Span<float>> scale)
    {
        var x = _features.ToArray();
        scale(x);
        return new RegressionDataset(x, _targets, Features, TargetNames);
    }
}
