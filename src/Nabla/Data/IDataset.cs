namespace Nabla.Data;

/// <summary>
/// A labelled classification dataset of fixed-size samples. It knows nothing of batching or order
/// (<see cref="DataLoader"/> does): it only copies chosen samples into caller-owned buffers.
/// </summary>
public interface IDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Features per sample (784 for a 28×28 image).</summary>
    int Features { get; }

    /// <summary>Number of classes; labels are in [0, Classes).</summary>
    int Classes { get; }

    /// <summary>Human-readable class names, <see cref="Classes"/> of them.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>
    /// Copies samples <paramref name="indices"/> into <paramref name="features"/> (indices.Length × Features,
    /// row-major) and their labels into <paramref name="labels"/>. Allocates nothing.
    /// </summary>
    void Gather(ReadOnlySpan<int> indices, Span<float> features, Span<int> labels);

    /// <summary>The label of sample <paramref name="index"/>.</summary>
    int Label(int index);

    /// <summary>
    /// A hint that <paramref name="indices"/> will be gathered next: a dataset too large for the caches can start
    /// fetching them while the current batch trains. Does nothing by default.
    /// </summary>
    void Prefetch(ReadOnlySpan<int> indices) { }

    /// <summary>
    /// Whether <see cref="Gather"/> and <see cref="GatherTargets"/> may run on a worker thread while the caller trains
    /// (never two at once): true for datasets held in memory (images, tensors, regression tables, subsets of them), so that a loader can gather the next batch in the
    /// background (<see cref="DataLoader.GatherAhead"/>). False by default.
    /// </summary>
    bool GathersOnAnyThread => false;

    /// <summary>Numeric targets per sample for regression (0 for a classification dataset, the default).</summary>
    int Targets => 0;

    /// <summary>Copies the numeric targets of samples <paramref name="indices"/> (indices.Length × Targets) into <paramref name="targets"/>.</summary>
    void GatherTargets(ReadOnlySpan<int> indices, Span<float> targets) { }
}
