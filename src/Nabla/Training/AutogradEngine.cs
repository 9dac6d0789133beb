using Nabla.Autograd;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Tensors;

namespace Nabla.Training;

/// <summary>
/// The general engine: any <see cref="Module"/>, through <see cref="Module.Forward"/> and reverse-mode autograd
/// (a user's own layer written with tensor ops trains with the same loop, callbacks and checkpoints as the
/// built-in ones). It allocates a graph per step; the explicit engine is the fast path for built-in layers.
/// </summary>
public sealed class AutogradEngine : IStepEngine
{
    private readonly Module _model;
    private readonly Loss _loss;
    private readonly int _inputFeatures;
    private readonly IReadOnlyList<Tensor> _parameters;

    /// <summary>Runs <paramref name="model"/> on batches of (size, <paramref name="inputFeatures"/>).</summary>
    public AutogradEngine(Module model, Loss loss, int inputFeatures, int maxBatch)
    {
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), "The batch size must be at least 1.");
        _model = model;
        _loss = loss;
        _inputFeatures = inputFeatures;
        MaxBatch = maxBatch;
        _parameters = model.Parameters();
    }

    /// <inheritdoc/>
    public int MaxBatch { get; }

    /// <inheritdoc/>
    public (float Loss, int Correct) Run(float[] features, int[] labels, int size, bool backward)
    {
        var x = Tensor.FromArray(features.AsSpan(0, size * _inputFeatures).ToArray(), size, _inputFeatures);
        Tensor logits;
        if (backward) logits = _model.Forward(x);
        else using (GradMode.NoGrad()) logits = _model.Forward(x);
        if (logits.Rank != 2 || logits.Shape[0] != size)
            throw new InvalidOperationException($"{_model.GetType().Name} returned {logits.Shape} for a batch of {size}; a classifier returns (batch, classes).");
        int correct = Accuracy.CountCorrect(logits.Data, labels, size, logits.Shape[1]);
        Tensor loss;
        if (backward) loss = _loss.Forward(logits, labels.AsSpan(0, size));
        else using (GradMode.NoGrad()) loss = _loss.Forward(logits, labels.AsSpan(0, size));
        float value = loss.Item();
        if (!backward || !float.IsFinite(value)) return (value, correct);
        foreach (var p in _parameters) p.Grad?.Data.Clear();
        loss.Backward();
        return (value, correct);
    }

    /// <inheritdoc/>
    public float RunRegression(float[] features, float[] targets, int size, bool backward)
    {
        var x = Tensor.FromArray(features.AsSpan(0, size * _inputFeatures).ToArray(), size, _inputFeatures);
        Tensor output, loss;
        if (backward) output = _model.Forward(x);
        else using (GradMode.NoGrad()) output = _model.Forward(x);
        int outputs = output.Size / Math.Max(size, 1);
        var t = Tensor.FromArray(targets.AsSpan(0, size * outputs).ToArray(), size, outputs);
        if (backward) loss = _loss.Forward(output, t);
        else using (GradMode.NoGrad()) loss = _loss.Forward(output, t);
        float value = loss.Item();
        if (!backward || !float.IsFinite(value)) return value;
        foreach (var p in _parameters) p.Grad?.Data.Clear();
        loss.Backward();
        return value;
    }
}
