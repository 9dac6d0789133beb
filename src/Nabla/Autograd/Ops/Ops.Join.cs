using Nabla.Tensors;

namespace Nabla.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Joins tensors along an existing dimension (torch.cat): their shapes must agree everywhere but there.
    /// Gradients flow back to each input's part.
    /// </summary>
    /// <exception cref="ArgumentException">No tensors, or shapes that do not agree.</exception>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Cat needs at least one tensor.");
        var first = tensors[0];
        int d = first.Shape.NormalizeAxis(dim);
        foreach (var t in tensors)
        {
            if (OnDevice(t)) throw NotOnDevice("cat", t);
            if (t.Rank != first.Rank || Enumerable.Range(0, t.Rank).Any(i => i != d && t.Shape[i] != first.Shape[i]))
                throw new ArgumentException($"Cat along dimension {d}: shape {t.Shape} does not match {first.Shape} outside that dimension.");
        }
        var dims = first.Shape.ToArray();
        dims[d] = tensors.Sum(t => t.Shape[d]);
        var y = new Tensor(new Shape(dims));
        int outer = dims[..d].Aggregate(1, (a, b) => a * b);
        int inner = first.Shape.Inner(d); // elements per step of dimension d
        int outStride = dims[d] * inner, at = 0;
        foreach (var t in tensors)
        {
            int block = t.Shape[d] * inner;
            var src = t.Data;
            var dst = y.Data;
            for (int o = 0; o < outer; o++) src.Slice(o * block, block).CopyTo(dst.Slice(o * outStride + at, block));
            at += block;
        }
        return Graph.Record(y, new CatNode([.. tensors], outer, inner, d));
    }

    /// <summary>Stacks same-shaped tensors along a new dimension (torch.stack).</summary>
    /// <exception cref="ArgumentException">No tensors, or shapes that differ.</exception>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Stack needs at least one tensor.");
        foreach (var t in tensors)
            if (t.Shape != tensors[0].Shape) throw new ArgumentException($"Stack: shape {t.Shape} differs from {tensors[0].Shape}.");
        return Cat([.. tensors.Select(t => t.Unsqueeze(dim))], dim);
    }

    /// <summary>
    /// Elements [start, start + length) of dimension <paramref name="dim"/> (torch.narrow, <c>x[:, a:b]</c>): a copy
    /// whose gradient lands in that slice of the source's.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the dimension.</exception>
    public static Tensor Slice(this Tensor x, int dim, int start, int length)
    {
        int d = x.Shape.NormalizeAxis(dim);
        if (start < 0 || length < 0 || start + length > x.Shape[d])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + length}) is outside dimension {d} of {x.Shape}.");
        return d == 0 ? x.Rows(start, length) : Narrow(x, d, start, length);
    }

    private static Tensor Narrow(Tensor x, int d, int start, int length)
    {
        if (OnDevice(x)) throw NotOnDevice("slice", x);
        var dims = x.Shape.ToArray();
        int outer = dims[..d].Aggregate(1, (a, b) => a * b), inner = x.Shape.Inner(d);
        int srcStride = dims[d] * inner, block = length * inner;
        dims[d] = length;
        var y = new Tensor(new Shape(dims));
        var src = x.Data;
        var dst = y.Data;
        for (int o = 0; o < outer; o++) src.Slice(o * srcStride + start * inner, block).CopyTo(dst.Slice(o * block, block));
        return Graph.Record(y, new NarrowNode(x, outer, srcStride, start * inner, block));
    }

    private sealed class CatNode(Tensor[] inputs, int outer, int inner, int d) : Node(inputs)
    {
        public override string Name => "CatBackward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            int outStride = output.Shape[d] * inner, at = 0;
            foreach (var t in Inputs)
            {
                int block = t.Shape[d] * inner;
                if (Graph.Needs(t))
                {
                    var dx = new float[t.Size];
                    for (int o = 0; o < outer; o++) dy.Slice(o * outStride + at, block).CopyTo(dx.AsSpan(o * block, block));
                    Graph.Accumulate(t, dx);
                }
                at += block;
            }
        }
    }

    private sealed class NarrowNode(Tensor x, int outer, int srcStride, int offset, int block) : Node(x)
    {
        public override string Name => "SliceBackward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            var dx = new float[x.Size];
            for (int o = 0; o < outer; o++) dy.Slice(o * block, block).CopyTo(dx.AsSpan(o * srcStride + offset, block));
            Graph.Accumulate(x, dx);
        }
    }
}
