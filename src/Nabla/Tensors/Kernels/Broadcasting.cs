using Nabla.Devices;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// Element-wise binary operations under NumPy broadcasting. The common cases (equal shapes, a scalar operand,
/// a row vector over a batch) go to <see cref="TensorPrimitives"/>; anything else takes the general strided
/// loop of <see cref="BroadcastingNaive"/>, which is also the fast paths' test oracle.
/// </summary>
internal static class Broadcasting
{
    /// <summary><c>dst = a op b</c>, where <paramref name="dstShape"/> = <see cref="Shape.Broadcast"/>(a, b).</summary>
    public static void Binary(BinaryOp op, ReadOnlySpan<float> a, Shape aShape, ReadOnlySpan<float> b, Shape bShape,
        Span<float> dst, Shape dstShape)
    {
        if (aShape == bShape) { Same(op, a, b, dst); return; }
        if (b.Length == 1 && a.Length == dst.Length) { ScalarRight(op, a, b[0], dst); return; }
        if (a.Length == 1 && b.Length == dst.Length) { ScalarLeft(op, a[0], b, dst); return; }
        int last = dstShape.Rank == 0 ? 1 : dstShape[-1];
        if (a.Length == dst.Length && b.Length == last && IsTrailingRow(bShape))
        {
            for (int r = 0; r < dst.Length / Math.Max(last, 1); r++)
                Same(op, a.Slice(r * last, last), b, dst.Slice(r * last, last));
            return;
        }
        BroadcastingNaive.Binary(op, a, aShape, b, bShape, dst, dstShape);
    }

    private static bool IsTrailingRow(Shape s)
    {
        for (int i = 0; i < s.Rank - 1; i++) if (s[i] != 1) return false;
        return s.Rank >= 1;
    }

    private static void Same(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, dst); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, dst); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, dst); break;
            default: TensorPrimitives.Divide(a, b, dst); break;
        }
    }

    private static void ScalarRight(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> dst)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, dst); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, dst); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, dst); break;
            default: TensorPrimitives.Divide(a, b, dst); break;
        }
    }

    private static void ScalarLeft(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> dst)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, a, dst); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, dst); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, a, dst); break;
            default: TensorPrimitives.Divide(a, b, dst); break;
        }
    }

    /// <summary>
    /// Sums <paramref name="grad"/> (of shape <paramref name="from"/>) over the broadcast dimensions, giving the
    /// gradient of an operand of shape <paramref name="to"/>: the backward of broadcasting.
    /// </summary>
    public static void ReduceTo(ReadOnlySpan<float> grad, Shape from, Span<float> dst, Shape to)
    {
        if (from == to) { grad.CopyTo(dst); return; }
        dst.Clear();
        if (to.Size == 1) { dst[0] = TensorPrimitives.Sum(grad); return; }
        int last = from.Rank == 0 ? 1 : from[-1];
        if (to.Size == last && IsTrailingRow(to))
        {
            for (int r = 0; r < grad.Length / last; r++) TensorPrimitives.Add(dst, grad.Slice(r * last, last), dst);
            return;
        }
        BroadcastingNaive.ReduceTo(grad, from, dst, to);
    }
}
