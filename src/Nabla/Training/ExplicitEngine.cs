using Nabla.Losses;
using Nabla.NN;

namespace Nabla.Training;

/// <summary>
/// The fast engine: the model's explicit-layer form through a <see cref="BatchEngine"/> and the fused loss over
/// reused buffers. A step allocates nothing. Every layer of the model must have an explicit form.
/// </summary>
public sealed class ExplicitEngine : IStepEngine
{
    private readonly BatchEngine _engine;
    private readonly Loss _loss;
    private readonly float[] _dLogits;
    private readonly Tensors.Tensor[] _parameters;

    /// <summary>Buffers for batches of up to <paramref name="maxBatch"/> samples of <paramref name="inputFeatures"/>.</summary>
    /// <exception cref="NotSupportedException">A layer has no explicit form.</exception>
    public ExplicitEngine(Sequential model, Loss loss, int inputFeatures, int maxBatch)
    {
        _engine = new BatchEngine(model, inputFeatures, maxBatch);
        _loss = loss;
        _dLogits = new float[maxBatch * _engine.OutputFeatures];
        _parameters = model.Parameters();
    }

    /// <summary>Whether every layer of <paramref name="model"/> has an explicit form (a Sequential of built-in layers).</summary>
    public static bool Supports(Module model) => LayerPlan.TryOf(model, out _, out _);

    /// <inheritdoc/>
    public int MaxBatch => _engine.MaxBatch;

    /// <summary>Features per sample of the input.</summary>
    public int InputFeatures => _engine.InputFeatures;

    /// <inheritdoc/>
    public (float Loss, int Correct) Run(float[] features, int[] labels, int size, bool backward)
    {
        int classes = _engine.OutputFeatures;
        var logits = _engine.Forward(features, size);
        int correct = Accuracy.CountCorrect(logits, labels, size, classes);
        float loss = _loss.ForwardBackward(logits, labels, backward ? _dLogits : Span<float>.Empty, size, classes);
        BackwardIf(backward, loss);
        return (loss, correct);
    }

    /// <inheritdoc/>
    public float RunRegression(float[] features, float[] targets, int size, bool backward)
    {
        int outputs = _engine.OutputFeatures;
        var output = _engine.Forward(features, size);
        float loss = _loss.ForwardBackward(output, targets.AsSpan(0, size * outputs), backward ? _dLogits : Span<float>.Empty, size, outputs);
        BackwardIf(backward, loss);
        return loss;
    }

    /// <summary>When training and the loss is finite: the gradients from dℓ/d(output) in the buffer, zeroed first.</summary>
    private void BackwardIf(bool backward, float loss)
    {
        if (!backward || !float.IsFinite(loss)) return;
        foreach (var p in _parameters) p.Grad?.Data.Clear();
        _engine.Backward(_dLogits);
    }
}
