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
        var logits = Output(features, size, backward, "a classifier returns (batch, classes)");
        int correct = Accuracy.CountCorrect(logits.Data, labels, size, logits.Shape[1]);
        return (LossAndBackward(() => _loss.Forward(logits, labels.AsSpan(0, size)), backward), correct);
    }

    /// <inheritdoc/>
    public float RunRegression(float[] features, float[] targets, int size, bool backward)
    {
        var output = Output(features, size, backward, "a regression model returns (batch, targets)");
        var t = Tensor.FromArray(targets.AsSpan(0, output.Size).ToArray(), size, output.Shape[1]);
        return LossAndBackward(() => _loss.Forward(output, t), backward);
    }

    /// <summary>The model's (batch, outputs) for the first <paramref name="size"/> rows, recorded only when training.</summary>
    private Tensor Output(float[] features, int size, bool backward, string expected)
    {
        var x = Tensor.FromArray(features.AsSpan(0, size * _inputFeatures).ToArray(), size, _inputFeatures);
        Tensor y;
        if (backward) y = _model.Forward(x);
        else using (GradMode.NoGrad()) y = _model.Forward(x);
        if (y.Rank != 2 || y.Shape[0] != size)
            throw new InvalidOperationException($"{_model.GetType().Name} returned {y.Shape} for a batch of {size}; {expected}.");
        return y;
    }

    /// <summary>The mean loss; when training and finite, the parameters' gradients of it (zeroed first).</summary>
    private float LossAndBackward(Func<Tensor> lossOf, bool backward)
    {
        Tensor loss;
        if (backward) loss = lossOf();
        else using (GradMode.NoGrad()) loss = lossOf();
        float value = loss.Item();
        if (!backward || !float.IsFinite(value)) return value;
        foreach (var p in _parameters) p.Grad?.Data.Clear();
        loss.Backward();
        return value;
    }
}
