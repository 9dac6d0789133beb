using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

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

    /// <summary>Buffers for batches of up to <paramref name="maxBatch"/> samples of <paramref name="inputFeatures"/>.</summary>
    /// <exception cref="NotSupportedException">A layer has no explicit form.</exception>
    public ExplicitEngine(Sequential model, Loss loss, int inputFeatures, int maxBatch)
    {
        _engine = new BatchEngine(model, inputFeatures, maxBatch);
        _loss = loss;
        _dLogits = new float[maxBatch * _engine.OutputFeatures];
    }

    /// <summary>Whether a step may take the optimizer's update inside the backward pass (no parameter used twice).</summary>
    internal bool CanFuseUpdate => _engine.EachParameterOnce;

    /// <summary>Whether every layer of <paramref name="model"/> has an explicit form (a Sequential of built-in layers).</summary>
    public static bool Supports(Module model) => LayerPlan.TryOf(model, out _, out _);

    /// <inheritdoc/>
    public int MaxBatch => _engine.MaxBatch;

    /// <summary>Features per sample of the input.</summary>
    public int InputFeatures => _engine.InputFeatures;

    /// <inheritdoc/>
    public (float Loss, int Correct) Run(float[] features, int[] labels, int size, bool backward) =>
        Run(features, labels, size, backward, null);

    /// <summary>
    /// <see cref="Run(float[], int[], int, bool)"/>, with <paramref name="update"/> (when training) taking the
    /// optimizer's step inside the backward pass: the same bits as the step after it (see <see cref="FusedUpdate"/>).
    /// Skipped, as the step would be, when the loss is not finite.
    /// </summary>
    internal (float Loss, int Correct) Run(float[] features, int[] labels, int size, bool backward, FusedUpdate? update)
    {
        int classes = _engine.OutputFeatures;
        var logits = _engine.Forward(features, size);
        int correct = Accuracy.CountCorrect(logits, labels, size, classes);
        float loss = _loss.ForwardBackward(logits, labels, backward ? _dLogits : Span<float>.Empty, size, classes);
        BackwardIf(backward, loss, update);
        return (loss, correct);
    }

    /// <inheritdoc/>
    public float RunRegression(float[] features, float[] targets, int size, bool backward)
    {
        int outputs = _engine.OutputFeatures;
        var output = _engine.Forward(features, size);
        float loss = _loss.ForwardBackward(output, targets.AsSpan(0, size * outputs), backward ? _dLogits : Span<float>.Empty, size, outputs);
        BackwardIf(backward, loss, null);
        return loss;
    }

    /// <summary>When training and the loss is finite: the gradients from dℓ/d(output) in the buffer, written afresh.</summary>
    private void BackwardIf(bool backward, float loss, FusedUpdate? update)
    {
        if (!backward || !float.IsFinite(loss)) return;
        _engine.Backward(_dLogits, overwrite: true, update);
    }
}
