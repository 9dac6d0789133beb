using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.Losses;

/// <summary>
/// nn.CrossEntropyLoss on logits and class indices, mean reduction: softmax and cross-entropy
/// <c>H(y, ŷ) = −Σ y_i log ŷ_i</c> (textbook 8.5.1) fused, so the gradient is <c>(ŷ − y)/B</c>.
/// Optional label smoothing ε replaces the one-hot y by <c>(1−ε)·y + ε/C</c>, as PyTorch's <c>label_smoothing</c>;
/// optional class weights (PyTorch's <c>weight</c>) weigh each sample by its class, the mean dividing by the weights'
/// sum over the batch — for imbalanced classes, <see cref="BalancedWeights"/> (scikit-learn's "balanced").
/// </summary>
public sealed class CrossEntropyLoss : Loss
{
    private readonly float[]? _weight;

    /// <summary>Creates the loss.</summary>
    /// <param name="labelSmoothing">ε in [0, 1].</param>
    /// <param name="weight">One weight per class (non-negative, finite), or null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">Label smoothing outside [0, 1], or a weight negative or not finite.</exception>
    public CrossEntropyLoss(float labelSmoothing = 0f, float[]? weight = null)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"label_smoothing must be in [0, 1]; got {labelSmoothing}.");
        if (weight is not null && (weight.Length == 0 || weight.Any(w => !(w >= 0) || !float.IsFinite(w))))
            throw new ArgumentOutOfRangeException(nameof(weight), "class weights must be non-negative finite numbers, one per class.");
        LabelSmoothing = labelSmoothing;
        _weight = weight is null ? null : (float[])weight.Clone();
    }

    /// <summary>ε, the mass spread uniformly over the classes.</summary>
    public float LabelSmoothing { get; }

    /// <summary>The class weights, or null.</summary>
    public IReadOnlyList<float>? Weight => _weight;

    /// <summary>
    /// scikit-learn's <c>class_weight="balanced"</c>: <c>w_c = n / (C · n_c)</c> for <paramref name="labels"/> over
    /// <paramref name="classes"/> classes (a class with no sample gets the weight of a class of one).
    /// </summary>
    public static float[] BalancedWeights(ReadOnlySpan<int> labels, int classes)
    {
        var counts = new int[classes];
        foreach (int y in labels) counts[y]++;
        var weights = new float[classes];
        for (int c = 0; c < classes; c++) weights[c] = (float)((double)labels.Length / (classes * (double)Math.Max(counts[c], 1)));
        return weights;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, ReadOnlySpan<int> targets)
    {
        CheckWeights(input.Rank == 2 ? input.Shape[1] : -1);
        return Ops.CrossEntropy(input, targets, LabelSmoothing, _weight);
    }

    /// <inheritdoc/>
    public override float ForwardBackward(ReadOnlySpan<float> input, ReadOnlySpan<int> targets, Span<float> dInput, int rows, int classes)
    {
        if (_weight is null) return Tensors.Kernels.CrossEntropy.ForwardBackward(input, targets, dInput, rows, classes, LabelSmoothing);
        CheckWeights(classes);
        return Tensors.Kernels.CrossEntropy.ForwardBackwardWeighted(input, targets, _weight, dInput, rows, classes, LabelSmoothing);
    }

    private void CheckWeights(int classes)
    {
        if (_weight is not null && _weight.Length != classes)
            throw new ArgumentException($"CrossEntropyLoss: {_weight.Length} class weights for a model of {classes} classes.");
    }
}
