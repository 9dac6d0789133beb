using Nabla.Tensors;

namespace Nabla.Autograd;

public static partial class Ops
{
    /// <summary>The same storage seen with another shape; one dimension may be −1 (inferred).</summary>
    /// <exception cref="ArgumentException">The sizes differ; the message names both shapes.</exception>
    public static Tensor Reshape(this Tensor x, params int[] shape)
    {
        var dims = (int[])shape.Clone();
        int infer = Array.IndexOf(dims, -1);
        if (infer >= 0)
        {
            int known = 1;
            for (int i = 0; i < dims.Length; i++) if (i != infer) known *= dims[i];
            if (known == 0 || x.Size % known != 0)
                throw new ArgumentException($"Cannot reshape {x.Shape} to ({string.Join(", ", shape)}).");
            dims[infer] = x.Size / known;
        }
        var s = new Shape(dims);
        if (s.Size != x.Size) throw new ArgumentException($"Cannot reshape {x.Shape} ({x.Size} elements) to {s} ({s.Size} elements).");
        var y = x.View(x.Offset, s);
        return Graph.Record(y, new ViewNode(x, 0));
    }

    /// <summary>Flattens dimensions from <paramref name="startDim"/> on (nn.Flatten's default is 1).</summary>
    public static Tensor Flatten(this Tensor x, int startDim = 0)
    {
        if (x.Rank == 0) return x.Reshape(1);
        int s = x.Shape.NormalizeAxis(startDim);
        if (s == 0) return x.Reshape(x.Size);
        var dims = new int[s + 1];
        for (int i = 0; i < s; i++) dims[i] = x.Shape[i];
        dims[s] = x.Shape.Inner(s - 1); // product of dimensions s, s+1, …
        return x.Reshape(dims);
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/>.</summary>
    public static Tensor Unsqueeze(this Tensor x, int dim)
    {
        var d = new List<int>(x.Shape.ToArray());
        int at = dim < 0 ? dim + x.Rank + 1 : dim;
        if (at < 0 || at > x.Rank) throw new ArgumentOutOfRangeException(nameof(dim), $"Cannot unsqueeze {x.Shape} at {dim}.");
        d.Insert(at, 1);
        return x.Reshape([.. d]);
    }

    /// <summary>Rows [start, start+count) of the first dimension, as a view of the same storage.</summary>
    public static Tensor Rows(this Tensor x, int start, int count)
    {
        if (x.Rank == 0) throw new ArgumentException("Cannot slice rows of a scalar.");
        if (start < 0 || count < 0 || start + count > x.Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside shape {x.Shape}.");
        var dims = x.Shape.ToArray();
        dims[0] = count;
        int rowSize = x.Shape.Inner(0);
        var y = x.View(x.Offset + start * rowSize, new Shape(dims));
        return Graph.Record(y, new ViewNode(x, start * rowSize));
    }

    /// <summary>Transpose of a 2-D tensor (a copy).</summary>
    public static Tensor Transpose(this Tensor x)
    {
        if (OnDevice(x)) throw NotOnDevice("transpose", x);
        if (x.Rank != 2) throw new ArgumentException($"Transpose needs a 2-D tensor; shape is {x.Shape}.");
        int r = x.Shape[0], c = x.Shape[1];
        var y = new Tensor(new Shape(c, r));
        Transpose(x.Data, y.Data, r, c);
        return Graph.Record(y, new TransposeNode(x, r, c));
    }

    private static void Transpose(ReadOnlySpan<float> src, Span<float> dst, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                dst[j * rows + i] = src[i * cols + j];
    }

    /// <summary>A view: its gradient lands at <c>offset</c> within the source's gradient.</summary>
    private sealed class ViewNode(Tensor x, int offset) : Node(x)
    {
        public override string Name => offset == 0 ? "ViewBackward" : "SliceBackward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            if (offset == 0 && dy.Length == x.Size) { Graph.Accumulate(x, dy); return; }
            var dx = new float[x.Size];
            dy.CopyTo(dx.AsSpan(offset));
            Graph.Accumulate(x, dx);
        }
    }

    private sealed class TransposeNode(Tensor x, int rows, int cols) : Node(x)
    {
        public override string Name => "TBackward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            var dx = new float[x.Size];
            Transpose(dy, dx, cols, rows);
            Graph.Accumulate(x, dx);
        }
    }
}
