namespace Nabla.Data;

/// <summary>
/// Raw table rows seen through their preprocessing: <see cref="Gather"/> gives encoded features (what the model's
/// first layer would compute). For an engine that runs the rest of a table model elsewhere (the GPU).
/// </summary>
public sealed class EncodedDataset(IDataset raw, TablePreprocessor preprocessor) : IDataset
{
    private float[] _scratch = [];

    /// <inheritdoc/>
    public int Count => raw.Count;

    /// <inheritdoc/>
    public int Features => preprocessor.OutputWidth;

    /// <inheritdoc/>
    public int Classes => raw.Classes;

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames => raw.ClassNames;

    /// <inheritdoc/>
    public int Targets => raw.Targets;

    /// <inheritdoc/>
    public int Label(int index) => raw.Label(index);

    /// <inheritdoc/>
    public void Gather(ReadOnlySpan<int> indices, Span<float> features, Span<int> labels)
    {
        int need = indices.Length * raw.Features;
        if (_scratch.Length < need) _scratch = new float[need];
        raw.Gather(indices, _scratch.AsSpan(0, need), labels);
        preprocessor.Apply(_scratch.AsSpan(0, need), features, indices.Length);
    }

    /// <inheritdoc/>
    public void GatherTargets(ReadOnlySpan<int> indices, Span<float> targets) => raw.GatherTargets(indices, targets);
}
