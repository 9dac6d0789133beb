using Nabla.Tensors;

namespace Nabla.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Kronecker product (torch.kron) of two 2-D tensors (1-D ones are vectors and give a vector):
    /// <c>(A ⊗ B)[i·p+k, j·q+l] = A[i,j]·B[k,l]</c> for A (m, n), B (p, q). The textbook writes the weight
    /// Jacobian block as <c>𝔹[z] = I ⊗ zᵀ</c> and its gradients as Kronecker products (8.5.2).
    /// </summary>
    public static Tensor Kron(this Tensor a, Tensor b)
    {
        if (OnDevice(a)) throw NotOnDevice("kron", a);
        if (a.Rank == 1 && b.Rank == 1) return Kron(a.Reshape(1, a.Size), b.Reshape(1, b.Size)).Reshape(a.Size * b.Size);
        if (a.Rank != 2 || b.Rank != 2)
            throw new ArgumentException($"kron supports two 1-D or two 2-D tensors; got shapes {a.Shape} and {b.Shape}.");
        int m = a.Shape[0], n = a.Shape[1], p = b.Shape[0], q = b.Shape[1];
        var y = new Tensor(new Shape(m * p, n * q));
        var A = a.Data; var B = b.Data; var Y = y.Data;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < p; k++)
                    for (int l = 0; l < q; l++)
                        Y[(i * p + k) * n * q + j * q + l] = A[i * n + j] * B[k * q + l];
        return Graph.Record(y, new KronNode(a, b));
    }

    /// <summary>
    /// torch.diag: a vector becomes the diagonal matrix with it on its diagonal; a matrix gives its diagonal.
    /// </summary>
    public static Tensor Diag(this Tensor x)
    {
        if (OnDevice(x)) throw NotOnDevice("diag", x);
        if (x.Rank == 1)
        {
            int n = x.Size;
            var y = new Tensor(new Shape(n, n));
            for (int i = 0; i < n; i++) y.Data[i * n + i] = x.Data[i];
            return Graph.Record(y, new DiagNode(x, true));
        }
        if (x.Rank == 2)
        {
            int n = Math.Min(x.Shape[0], x.Shape[1]), cols = x.Shape[1];
            var y = new Tensor(new Shape(n));
            for (int i = 0; i < n; i++) y.Data[i] = x.Data[i * cols + i];
            return Graph.Record(y, new DiagNode(x, false));
        }
        throw new ArgumentException($"diag needs a 1-D or 2-D tensor; shape is {x.Shape}.");
    }

    private sealed class KronNode(Tensor a, Tensor b) : Node(a, b)
    {
        public override string Name => "KronBackward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            int m = a.Shape[0], n = a.Shape[1], p = b.Shape[0], q = b.Shape[1];
            var da = new float[a.Size];
            var db = new float[b.Size];
            var A = a.Data; var B = b.Data;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    for (int k = 0; k < p; k++)
                        for (int l = 0; l < q; l++)
                        {
                            float g = dy[(i * p + k) * n * q + j * q + l];
                            da[i * n + j] += g * B[k * q + l];
                            db[k * q + l] += g * A[i * n + j];
                        }
            Graph.Accumulate(a, da);
            Graph.Accumulate(b, db);
        }
    }

    private sealed class DiagNode(Tensor x, bool fromVector) : Node(x)
    {
        public override string Name => "DiagBackward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            var dx = new float[x.Size];
            if (fromVector)
            {
                int n = x.Size;
                for (int i = 0; i < n; i++) dx[i] = dy[i * n + i];
            }
            else
            {
                int cols = x.Shape[1];
                for (int i = 0; i < output.Size; i++) dx[i * cols + i] = dy[i];
            }
            Graph.Accumulate(x, dx);
        }
    }
}
