using System.Globalization;

namespace Nabla.NN;

/// <summary>The kinds of built-in layer a <see cref="LayerPlan"/> describes.</summary>
public enum LayerKind
{
    /// <summary><see cref="NN.Flatten"/>: (batch, …) → (batch, features); the identity on (batch, features).</summary>
    Flatten,
    /// <summary><see cref="NN.Linear"/>: <c>y = x·Wᵀ + b</c>.</summary>
    Linear,
    /// <summary>An element-wise <see cref="NN.Activation"/> (sigmoid, ReLU, tanh).</summary>
    Activation,
    /// <summary><see cref="NN.Dropout"/> with probability <see cref="LayerSpec.P"/>.</summary>
    Dropout,
    /// <summary><see cref="NN.Softmax"/> over the features.</summary>
    Softmax,
    /// <summary><see cref="NN.ColumnTransformer"/>: a table's raw columns → features (gaps filled, scaled, one-hot).</summary>
    ColumnTransformer,
    /// <summary><see cref="NN.Rescaling"/>: <c>y = x·scale + offset</c> per feature.</summary>
    Rescaling,
}

/// <summary>
/// One layer of a <see cref="LayerPlan"/>: its kind, the features per sample it takes and gives, and its settings.
/// Use the factory methods; fields that do not apply to a kind keep their defaults.
/// </summary>
/// <param name="Kind">What the layer computes.</param>
/// <param name="InFeatures">Features per sample entering the layer.</param>
/// <param name="OutFeatures">Features per sample leaving it (equal to the input's except for Linear).</param>
/// <param name="Bias">Linear: whether it has a bias.</param>
/// <param name="Activation">Activation: which function (null for every other kind: a layer without an activation has none).</param>
/// <param name="P">Dropout: the probability of zeroing an element; null when the file it was read from does not record it (a PyTorch state dict).</param>
/// <param name="Seed">Dropout: the layer's mask seed (<see cref="Dropout.Seed"/>); state of a model, not of its file.</param>
public sealed record LayerSpec(LayerKind Kind, int InFeatures, int OutFeatures, bool Bias = false,
    ActivationKind? Activation = null, float? P = null, ulong Seed = 0)
{
    /// <summary>A Linear layer.</summary>
    public static LayerSpec LinearLayer(int inFeatures, int outFeatures, bool bias = true) => new(LayerKind.Linear, inFeatures, outFeatures, bias);

    /// <summary>An activation on <paramref name="features"/> per sample.</summary>
    public static LayerSpec ActivationLayer(ActivationKind kind, int features) => new(LayerKind.Activation, features, features, Activation: kind);

    /// <summary>A dropout layer (<paramref name="p"/> null: its probability is not known).</summary>
    public static LayerSpec DropoutLayer(float? p, int features) => new(LayerKind.Dropout, features, features, P: p);

    /// <summary>A Flatten layer.</summary>
    public static LayerSpec FlattenLayer(int features) => new(LayerKind.Flatten, features, features);

    /// <summary>A softmax layer.</summary>
    public static LayerSpec SoftmaxLayer(int features) => new(LayerKind.Softmax, features, features);

    /// <summary>ColumnTransformer: its fitted preprocessing.</summary>
    public Data.TablePreprocessor? Preprocessor { get; init; }

    /// <summary>Rescaling: each feature's factor.</summary>
    public float[]? Scale { get; init; }

    /// <summary>Rescaling: each feature's offset.</summary>
    public float[]? Offset { get; init; }

    /// <summary>A table's preprocessing layer.</summary>
    public static LayerSpec ColumnTransformerLayer(Data.TablePreprocessor preprocessor) =>
        new(LayerKind.ColumnTransformer, preprocessor.InputWidth, preprocessor.OutputWidth) { Preprocessor = preprocessor };

    /// <summary>A rescaling layer.</summary>
    public static LayerSpec RescalingLayer(float[] scale, float[] offset) =>
        new(LayerKind.Rescaling, scale.Length, scale.Length) { Scale = scale, Offset = offset };

    /// <summary>The layer's class name as PyTorch prints it: <c>Linear</c>, <c>Sigmoid</c>, <c>ReLU</c>, <c>Dropout</c>…</summary>
    public string TypeName => Kind switch
    {
        LayerKind.Activation => Activation == ActivationKind.Relu ? "ReLU" : Activation!.Value.ToString(),
        _ => Kind.ToString(),
    };

    /// <summary>Trainable parameters of the layer.</summary>
    public long ParameterCount => Kind == LayerKind.Linear ? (long)InFeatures * OutFeatures + (Bias ? OutFeatures : 0) : 0;

    /// <summary>The layer as PyTorch prints it, e.g. <c>Linear(in_features=784, out_features=32, bias=True)</c>.</summary>
    public override string ToString() => Kind switch
    {
        LayerKind.Linear => $"Linear(in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias ? "True" : "False")})",
        LayerKind.Dropout => $"Dropout(p={P?.ToString(CultureInfo.InvariantCulture) ?? "not recorded"})",
        LayerKind.ColumnTransformer => $"ColumnTransformer({Preprocessor})",
        LayerKind.Rescaling => $"Rescaling(features={OutFeatures})",
        _ => TypeName + "()",
    };
}
