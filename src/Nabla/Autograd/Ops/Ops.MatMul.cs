using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Matrix product <c>op(a)·op(b)</c> (op = transpose when the flag is set) for 2-D operands; a 1-D operand is
    /// a vector as in <c>torch.matmul</c> (<c>W @ z</c> is a matrix–vector product; two vectors give their dot).
    /// </summary>
    /// <exception cref="ArgumentException">Inner dimensions differ; the message names both shapes.</exception>
    public static Tensor MatMul(this Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        if (a.Rank == 2 && b.Rank == 2) return MatMul2D(a, b, transA, transB);
        if ((a.Rank == 1 || b.Rank == 1) && !transA && !transB && a.Rank is 1 or 2 && b.Rank is 1 or 2)
        {
            var a2 = a.Rank == 1 ? a.Reshape(1, a.Shape[0]) : a;
            var b2 = b.Rank == 1 ? b.Reshape(b.Shape[0], 1) : b;
            if (a2.Shape[1] != b2.Shape[0])
                throw new ArgumentException($"matmul: shapes {a.Shape} and {b.Shape} are not aligned.");
            var c = MatMul2D(a2, b2, false, false);
            if (a.Rank == 1 && b.Rank == 1) return c.Reshape();
            return c.Reshape(a.Rank == 1 ? b.Shape[1] : a.Shape[0]);
        }
        throw new ArgumentException($"matmul supports 1-D and 2-D operands; got shapes {a.Shape} and {b.Shape}.");
    }

    /// <summary>Inner product of two vectors, composed as <c>Σ a⊙b</c> (torch.dot).</summary>
    public static Tensor Dot(this Tensor a, Tensor b)
    {
        if (a.Rank != 1 || b.Rank != 1 || a.Size != b.Size)
            throw new ArgumentException($"dot needs two vectors of equal length; got shapes {a.Shape} and {b.Shape}.");
        return Sum(Mul(a, b));
    }

    /// <summary>Outer product <c>a bᵀ</c> of two vectors, composed as a broadcast product.</summary>
    public static Tensor Outer(this Tensor a, Tensor b)
    {
        if (a.Rank != 1 || b.Rank != 1)
            throw new ArgumentException($"outer needs two vectors; got shapes {a.Shape} and {b.Shape}.");
        return Mul(a.Reshape(a.Size, 1), b.Reshape(1, b.Size));
    }

    /// <summary><c>x·Wᵀ + b</c>, as <c>torch.nn.functional.linear</c>: x (B, I), W (O, I), b (O).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        var y = MatMul(x, weight, transB: true);
        return bias is null ? y : Add(y, bias);
    }

    private static Tensor MatMul2D(Tensor a, Tensor b, bool transA, bool transB)
    {
        int m = transA ? a.Shape[1] : a.Shape[0], k = transA ? a.Shape[0] : a.Shape[1];
        int kb = transB ? b.Shape[1] : b.Shape[0], n = transB ? b.Shape[0] : b.Shape[1];
        if (k != kb)
            throw new ArgumentException($"matmul: shapes {a.Shape}{(transA ? "ᵀ" : "")} and {b.Shape}{(transB ? "ᵀ" : "")} are not aligned ({k} ≠ {kb}).");
        if (OnDevice(a, b, "matmul")) return DeviceMatMul(a, b, transA, transB, m, n, k);
        var c = new Tensor(new Shape(m, n));
        Gemm.Run(transA, transB, m, n, k, 1f, a.Data, a.Shape[1], b.Data, b.Shape[1], 0f, c.Data, n);
        return Graph.Record(c, new MatMulNode(a, b, transA, transB, m, n, k));
    }

    private sealed class MatMulNode(Tensor a, Tensor b, bool transA, bool transB, int m, int n, int k) : Node(a, b)
    {
        public override string Name => "MmBackward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dc)
        {
            int lda = a.Shape[1], ldb = b.Shape[1];
            if (Graph.Needs(a))
            {
                var da = new float[a.Size];
                // C = op(A)op(B) ⇒ dop(A) = dC·op(B)ᵀ; when A is stored transposed, dA = op(B)·dCᵀ.
                if (!transA) Gemm.Run(false, !transB, m, k, n, 1f, dc, n, b.Data, ldb, 0f, da, k);
                else Gemm.Run(transB, true, k, m, n, 1f, b.Data, ldb, dc, n, 0f, da, m);
                Graph.Accumulate(a, da);
            }
            if (Graph.Needs(b))
            {
                var db = new float[b.Size];
                // dop(B) = op(A)ᵀ·dC; when B is stored transposed, dB = dCᵀ·op(A).
                if (!transB) Gemm.Run(!transA, false, k, n, m, 1f, a.Data, lda, dc, n, 0f, db, n);
                else Gemm.Run(true, transA, n, k, m, 1f, dc, n, a.Data, lda, 0f, db, k);
                Graph.Accumulate(b, db);
            }
        }
    }
}
