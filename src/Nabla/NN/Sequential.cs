using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// Modules applied in order (nn.Sequential); children are named "0", "1", … so parameters are named as
/// PyTorch names them (<c>1.weight</c>, <c>3.bias</c>).
/// </summary>
public sealed class Sequential : Module
{
    private readonly Module[] _layers;

    /// <summary>Creates the chain.</summary>
    public Sequential(params Module[] layers)
    {
        if (layers.Length == 0) throw new ArgumentException("A Sequential needs at least one module.");
        _layers = layers;
    }

    /// <inheritdoc/>
    public override Module To(Devices.Device device)
    {
        var moved = _layers.Select(l => l.To(device)).ToArray();
        if (moved.SequenceEqual(_layers)) return this;
        var copy = new Sequential(moved);
        copy.Train(IsTraining);
        return copy;
    }

    /// <summary>
    /// A table model taken apart: its first layer's preprocessing, and the network after it (a Flatten in that
    /// layer's place, so layer indices and parameters are the same objects). (null, this) for any other model.
    /// </summary>
    public (Data.TablePreprocessor? Preprocessing, Sequential Network) SplitPreprocessing() =>
        _layers[0] is ColumnTransformer table ? (table.Preprocessor, new Sequential([new Flatten(), .. _layers.Skip(1)])) : (null, this);

    /// <summary>The modules, in order.</summary>
    public IReadOnlyList<Module> Layers => _layers;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        foreach (var layer in _layers) x = layer.Forward(x);
        return x;
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Module Module)> NamedChildren()
    {
        for (int i = 0; i < _layers.Length; i++) yield return (i.ToString(System.Globalization.CultureInfo.InvariantCulture), _layers[i]);
    }

    /// <inheritdoc/>
    public override int OutputFeatures(int inputFeatures)
    {
        foreach (var layer in _layers) inputFeatures = layer.OutputFeatures(inputFeatures);
        return inputFeatures;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        "Sequential(\n" + string.Concat(_layers.Select((l, i) => $"  ({i}): {l}\n")) + ")";
}
