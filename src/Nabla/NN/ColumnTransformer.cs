using Nabla.Data;
using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// A table model's first layer: its preprocessing (scikit-learn's ColumnTransformer, Keras's preprocessing layers).
/// It takes raw rows (B, columns) — numbers, category indices, NaN for gaps, as <see cref="TableColumn"/> describes —
/// and gives the features the network was trained on (B, features): gaps filled, numbers standardized, categories
/// one-hot. Being part of the model, it is saved in the model file and applied by <see cref="Module.Predict"/>,
/// <c>eval</c>, <c>predict</c> and the ONNX export alike. It has no parameters and passes no gradient to its raw input
/// (category indices and gaps have none); its state is the fitted <see cref="Preprocessor"/>.
/// </summary>
public sealed class ColumnTransformer(TablePreprocessor preprocessor) : Module
{
    /// <summary>The fitted columns.</summary>
    public TablePreprocessor Preprocessor { get; } = preprocessor;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 2 || x.Shape[1] != Preprocessor.InputWidth)
            throw new ArgumentException($"ColumnTransformer: input {x.Shape} is not (batch, {Preprocessor.InputWidth}) raw rows of the table's columns.");
        var y = new Tensor(new Shape(x.Shape[0], Preprocessor.OutputWidth));
        Preprocessor.Apply(x.Data, y.Data, x.Shape[0]);
        return y;
    }

    /// <inheritdoc/>
    public override int OutputFeatures(int inputFeatures) => inputFeatures == Preprocessor.InputWidth ? Preprocessor.OutputWidth
        : throw new ArgumentException($"ColumnTransformer takes rows of {Preprocessor.InputWidth} columns; it was given {inputFeatures} features.");

    /// <inheritdoc/>
    public override void ForwardBatch(ReadOnlySpan<float> x, Span<float> y, int batch, int inputFeatures) => Preprocessor.Apply(x, y, batch);

    /// <summary>The raw input has no gradient: dx, if asked for, is zero.</summary>
    public override void BackwardBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int batch, int inputFeatures)
    {
        if (!dx.IsEmpty) dx[..(batch * inputFeatures)].Clear();
    }

    internal override LayerSpec Spec(int inputFeatures) => LayerSpec.ColumnTransformerLayer(Preprocessor);

    internal override int? FixedInputFeatures => Preprocessor.InputWidth;

    /// <inheritdoc/>
    public override string ToString() => $"ColumnTransformer({Preprocessor})";
}
