using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// An element-wise activation in both forms. Its backward needs only the forward's output y
/// (σ′ = y(1−y), tanh′ = 1−y², relu′ = [y &gt; 0]), which the engine keeps anyway.
/// </summary>
public abstract class Activation : Module
{
    /// <summary>Which activation this is: what a saved model records and what the device kernels compute.</summary>
    public abstract ActivationKind Kind { get; }

    internal override LayerSpec Spec(int inputFeatures) => LayerSpec.ActivationLayer(Kind, inputFeatures);

    /// <summary>A new layer computing <paramref name="kind"/>.</summary>
    public static Activation Create(ActivationKind kind) => kind switch
    {
        ActivationKind.Sigmoid => new Sigmoid(),
        ActivationKind.Relu => new Relu(),
        ActivationKind.Tanh => new Tanh(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), $"No activation {(int)kind}."),
    };

    /// <inheritdoc/>
    public override int OutputFeatures(int inputFeatures) => inputFeatures;

    /// <summary>y = f(x) over a span.</summary>
    protected abstract void Apply(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>dx = dy ⊙ f′ written in terms of y.</summary>
    protected abstract void Derivative(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx);

    /// <inheritdoc/>
    public override void ForwardBatch(ReadOnlySpan<float> x, Span<float> y, int batch, int inputFeatures) =>
        Apply(x[..(batch * inputFeatures)], y[..(batch * inputFeatures)]);

    /// <inheritdoc/>
    public override void BackwardBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures)
    {
        int n = batch * inputFeatures;
        if (!dx.IsEmpty) Derivative(y[..n], dy[..n], dx[..n]);
    }
}
