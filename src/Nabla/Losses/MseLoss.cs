using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.Losses;

/// <summary>
/// nn.MSELoss, mean reduction: <c>mean((input − target)²)</c>. With class indices, the target is their one-hot
/// encoding (a squared-error classifier). Optional per-column weights make it <c>mean(w_c·(input − target)²)</c>: with
/// <c>w_c = 1/σ_c²</c> it is the error in standard deviations of each target, what a model ending in
/// <see cref="NN.Rescaling"/> (outputs in the targets' units) is trained on, so that targets in the hundreds train as
/// targets near 1 do.
/// </summary>
public sealed class MseLoss : Loss
{
    private readonly float[]? _weights;

    /// <summary>The plain mean squared error.</summary>
    public MseLoss() { }

    /// <summary>The mean squared error with a weight per output column (regression target).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A weight is negative or not finite.</exception>
    public MseLoss(float[] columnWeights)
    {
        if (columnWeights.Length == 0 || columnWeights.Any(w => !(w >= 0) || !float.IsFinite(w)))
            throw new ArgumentOutOfRangeException(nameof(columnWeights), "column weights must be non-negative finite numbers, one per output.");
        _weights = (float[])columnWeights.Clone();
    }

    /// <summary>The per-column weights, or null.</summary>
    public IReadOnlyList<float>? ColumnWeights => _weights;
    /// <summary>Mean squared error against a target tensor of the same shape, recorded for autograd.</summary>
    /// <exception cref="ArgumentException">The shapes differ; the message names both.</exception>
    public override Tensor Forward(Tensor input, Tensor target)
    {
        if (input.Shape != target.Shape)
            throw new ArgumentException($"MSELoss: input {input.Shape} and target {target.Shape} differ in shape.");
        if (_weights is null) return input.Sub(target).Square().Mean();
        CheckColumns(input.Shape[input.Rank - 1]);
        return input.Sub(target).Square().Mul(Tensor.FromArray((float[])_weights.Clone(), _weights.Length)).Mean();
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, ReadOnlySpan<int> targets)
    {
        if (input.Rank != 2 || input.Shape[0] != targets.Length)
            throw new ArgumentException($"MSELoss: batch size mismatch between input {input.Shape} and target ({targets.Length},).");
        Tensors.Kernels.CrossEntropy.CheckTargets(targets, input.Shape[0], input.Shape[1]);
        var oneHot = new Tensor(input.Shape);
        for (int r = 0; r < targets.Length; r++) oneHot.Data[r * input.Shape[1] + targets[r]] = 1f;
        return Forward(input, oneHot);
    }

    /// <inheritdoc/>
    public override float ForwardBackward(ReadOnlySpan<float> input, ReadOnlySpan<int> targets, Span<float> dInput, int rows, int classes)
    {
        Tensors.Kernels.CrossEntropy.CheckTargets(targets, rows, classes);
        int n = rows * classes;
        double total = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < classes; c++)
            {
                int i = r * classes + c;
                float d = input[i] - (c == targets[r] ? 1f : 0f);
                total += (double)d * d;
                if (!dInput.IsEmpty) dInput[i] = 2f * d / n; // d/dx mean(d²) = 2d/n
            }
        return (float)(total / n);
    }

    /// <inheritdoc/>
    public override float ForwardBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> targets, Span<float> dInput, int rows, int columns)
    {
        int n = rows * columns;
        double total = 0;
        float g = 2f / n; // d mean((x − t)²)/dx = 2(x − t)/n
        if (_weights is not null)
        {
            CheckColumns(columns);
            for (int i = 0; i < n; i++)
            {
                float w = _weights[i % columns], d = input[i] - targets[i];
                total += (double)w * d * d;
                if (!dInput.IsEmpty) dInput[i] = g * w * d; // d mean(w(x − t)²)/dx = 2w(x − t)/n
            }
            return (float)(total / n);
        }
        for (int i = 0; i < n; i++)
        {
            float d = input[i] - targets[i];
            total += (double)d * d;
            if (!dInput.IsEmpty) dInput[i] = g * d;
        }
        return (float)(total / n);
    }

    private void CheckColumns(int columns)
    {
        if (_weights!.Length != columns) throw new ArgumentException($"MSELoss: {_weights.Length} column weights for outputs of {columns} columns.");
    }
}
