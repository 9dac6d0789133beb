using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.Autograd;

public static partial class Ops
{
    /// <summary>Sum of all elements (a scalar).</summary>
    public static Tensor Sum(this Tensor x) => OnDevice(x) ? DeviceSum(x) : SumAxis(x.Reshape(x.Size), 0, false);

    /// <summary>Sum along <paramref name="axis"/> (negative counts from the end).</summary>
    public static Tensor Sum(this Tensor x, int axis, bool keepDim = false) => SumAxis(x, x.Shape.NormalizeAxis(axis), keepDim);

    /// <summary>Mean of all elements, composed as sum × 1/n.</summary>
    public static Tensor Mean(this Tensor x) => Mul(Sum(x), Tensor.Scalar(1f / x.Size));

    /// <summary>Mean along <paramref name="axis"/>, composed as sum × 1/n.</summary>
    public static Tensor Mean(this Tensor x, int axis, bool keepDim = false) =>
        Mul(Sum(x, axis, keepDim), Tensor.Scalar(1f / x.Shape[axis]));

    /// <summary>Maximum along <paramref name="axis"/>; the gradient flows to the first maximal element.</summary>
    public static Tensor Max(this Tensor x, int axis, bool keepDim = false)
    {
        if (OnDevice(x)) throw NotOnDevice("max", x);
        int a = x.Shape.NormalizeAxis(axis);
        int outer = x.Shape.Outer(a), n = x.Shape[a], inner = x.Shape.Inner(a);
        var y = new Tensor(x.Shape.Reduce(a, keepDim));
        var idx = new int[y.Size];
        Reductions.Max(x.Data, y.Data, idx, outer, n, inner);
        return Graph.Record(y, new MaxNode(x, idx, outer, n, inner));
    }

    /// <summary>Index of the maximum along <paramref name="axis"/> (not differentiable), as float values.</summary>
    public static int[] ArgMax(this Tensor x, int axis)
    {
        if (OnDevice(x)) throw NotOnDevice("argmax", x);
        int a = x.Shape.NormalizeAxis(axis);
        var idx = new int[x.Shape.Outer(a) * x.Shape.Inner(a)];
        Reductions.Max(x.Data, Span<float>.Empty, idx, x.Shape.Outer(a), x.Shape[a], x.Shape.Inner(a));
        return idx;
    }

    private static Tensor SumAxis(Tensor x, int a, bool keepDim)
    {
        if (OnDevice(x)) throw NotOnDevice("sum along an axis", x);
        int outer = x.Shape.Outer(a), n = x.Shape[a], inner = x.Shape.Inner(a);
        var y = new Tensor(x.Shape.Reduce(a, keepDim));
        Reductions.Sum(x.Data, y.Data, outer, n, inner);
        return Graph.Record(y, new SumNode(x, outer, n, inner));
    }

    private sealed class SumNode(Tensor x, int outer, int n, int inner) : Node(x)
    {
        public override string Name => "SumBackward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            // Every summed element receives the output's gradient.
            var dx = new float[x.Size];
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < n; j++)
                    dy.Slice(o * inner, inner).CopyTo(dx.AsSpan((o * n + j) * inner, inner));
            Graph.Accumulate(x, dx);
        }
    }

    private sealed class MaxNode(Tensor x, int[] idx, int outer, int n, int inner) : Node(x)
    {
        public override string Name => "MaxBackward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            var dx = new float[x.Size];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                    dx[(o * n + idx[o * inner + i]) * inner + i] = dy[o * inner + i];
            Graph.Accumulate(x, dx);
        }
    }
}
