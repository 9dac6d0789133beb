using Nabla.Devices;
namespace Nabla.Tensors.Kernels;

/// <summary>
/// The general broadcasting loops: every output index is mapped to its operands' indices through strides that
/// are 0 along broadcast dimensions. Used for unusual shapes and as the oracle of <see cref="Broadcasting"/>.
/// </summary>
internal static class BroadcastingNaive
{
    /// <summary>Same contract as <see cref="Broadcasting.Binary"/>.</summary>
    public static void Binary(BinaryOp op, ReadOnlySpan<float> a, Shape aShape, ReadOnlySpan<float> b, Shape bShape,
        Span<float> dst, Shape dstShape)
    {
        Span<int> dims = stackalloc int[4], sa = stackalloc int[4], sb = stackalloc int[4];
        Strides(dstShape, aShape, dims, sa);
        Strides(dstShape, bShape, dims, sb);
        int o = 0;
        for (int i0 = 0; i0 < dims[0]; i0++)
        for (int i1 = 0; i1 < dims[1]; i1++)
        for (int i2 = 0; i2 < dims[2]; i2++)
        for (int i3 = 0; i3 < dims[3]; i3++)
        {
            float x = a[i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3]];
            float y = b[i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3]];
            dst[o++] = op switch { BinaryOp.Add => x + y, BinaryOp.Sub => x - y, BinaryOp.Mul => x * y, _ => x / y };
        }
    }

    /// <summary>Same contract as <see cref="Broadcasting.ReduceTo"/>.</summary>
    public static void ReduceTo(ReadOnlySpan<float> grad, Shape from, Span<float> dst, Shape to)
    {
        Span<int> dims = stackalloc int[4], st = stackalloc int[4];
        Strides(from, to, dims, st);
        dst.Clear();
        int o = 0;
        for (int i0 = 0; i0 < dims[0]; i0++)
        for (int i1 = 0; i1 < dims[1]; i1++)
        for (int i2 = 0; i2 < dims[2]; i2++)
        for (int i3 = 0; i3 < dims[3]; i3++)
            dst[i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3]] += grad[o++];
    }

    /// <summary>
    /// Pads <paramref name="outShape"/> to rank 4 in <paramref name="dims"/> and gives the strides of
    /// <paramref name="operand"/> (right-aligned) over those dims, 0 where the operand is broadcast.
    /// </summary>
    private static void Strides(Shape outShape, Shape operand, Span<int> dims, Span<int> strides)
    {
        int pad = 4 - outShape.Rank, opPad = 4 - operand.Rank;
        int stride = 1;
        for (int i = 3; i >= 0; i--)
        {
            dims[i] = i < pad ? 1 : outShape[i - pad];
            int od = i < opPad ? 1 : operand[i - opPad];
            strides[i] = od == 1 ? 0 : stride;
            stride *= od;
        }
    }
}
