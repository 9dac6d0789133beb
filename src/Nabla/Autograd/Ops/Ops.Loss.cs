using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Mean cross-entropy of logits (B, C) against class indices, with optional label smoothing; softmax and
    /// loss fused (<see cref="Tensors.Kernels.CrossEntropy"/>), so the gradient is <c>(γ(t) − q)/B</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree, or a target is outside [0, C).</exception>
    public static Tensor CrossEntropy(Tensor logits, ReadOnlySpan<int> targets, float labelSmoothing = 0f, float[]? weight = null)
    {
        if (OnDevice(logits)) throw NotOnDevice("cross_entropy", logits);
        var (rows, classes) = CheckLogits(logits, targets.Length, "cross_entropy");
        var grad = new float[logits.Size];
        float loss = weight is null
            ? Tensors.Kernels.CrossEntropy.ForwardBackward(logits.Data, targets, grad, rows, classes, labelSmoothing)
            : Tensors.Kernels.CrossEntropy.ForwardBackwardWeighted(logits.Data, targets, weight, grad, rows, classes, labelSmoothing);
        return Graph.Record(Tensor.Scalar(loss), new ScaledGradNode(logits, grad, "CrossEntropyLossBackward"));
    }

    /// <summary>Mean negative log-likelihood of log-probabilities (B, C) at the target indices (nn.NLLLoss).</summary>
    public static Tensor NllLoss(Tensor logProbs, ReadOnlySpan<int> targets)
    {
        if (OnDevice(logProbs)) throw NotOnDevice("nll_loss", logProbs);
        var (rows, classes) = CheckLogits(logProbs, targets.Length, "nll_loss");
        Tensors.Kernels.CrossEntropy.CheckTargets(targets, rows, classes);
        var grad = new float[logProbs.Size];
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            total -= logProbs.Data[r * classes + targets[r]];
            grad[r * classes + targets[r]] = -1f / rows;
        }
        return Graph.Record(Tensor.Scalar((float)(total / rows)), new ScaledGradNode(logProbs, grad, "NllLossBackward"));
    }

    private static (int Rows, int Classes) CheckLogits(Tensor x, int targets, string op)
    {
        if (x.Rank != 2) throw new ArgumentException($"{op}: input must be (batch, classes); shape is {x.Shape}.");
        if (x.Shape[0] != targets)
            throw new ArgumentException($"{op}: batch size mismatch between input {x.Shape} and target ({targets},).");
        return (x.Shape[0], x.Shape[1]);
    }

    /// <summary>A loss whose gradient with respect to its input was computed with the forward: dx = g · dloss.</summary>
    private sealed class ScaledGradNode(Tensor x, float[] grad, string name) : Node(x)
    {
        public override string Name => name;

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            var dx = new float[grad.Length];
            TensorPrimitives.Multiply(grad, dy[0], dx);
            Graph.Accumulate(x, dx);
        }
    }
}
