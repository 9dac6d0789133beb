using Nabla.Devices;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.Autograd;

/// <summary>
/// The differentiable operations on <see cref="Tensor"/>, as PyTorch's <c>torch.*</c> functions; each is also
/// an extension method (<c>x.Sigmoid()</c>). Each operation's forward and backward sit side by side, one
/// family per file.
/// </summary>
public static partial class Ops
{
    /// <summary><c>a + b</c>, NumPy broadcasting.</summary>
    public static Tensor Add(this Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);

    /// <summary><c>a − b</c>, NumPy broadcasting.</summary>
    public static Tensor Sub(this Tensor a, Tensor b) => Binary(BinaryOp.Sub, a, b);

    /// <summary><c>a ⊙ b</c> (Hadamard product), NumPy broadcasting.</summary>
    public static Tensor Mul(this Tensor a, Tensor b) => Binary(BinaryOp.Mul, a, b);

    /// <summary><c>a ⊘ b</c> (element-wise quotient), NumPy broadcasting.</summary>
    public static Tensor Div(this Tensor a, Tensor b) => Binary(BinaryOp.Div, a, b);

    /// <summary><c>−a</c>, composed as <c>a · (−1)</c>.</summary>
    public static Tensor Neg(this Tensor a) => Mul(a, Tensor.Scalar(-1f));

    /// <summary><c>a ⊙ a</c>, composed.</summary>
    public static Tensor Square(this Tensor a) => Mul(a, a);

    private static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        var shape = Shape.Broadcast(a.Shape, b.Shape);
        if (OnDevice(a, b, op.ToString().ToLowerInvariant())) return DeviceBinary(op, a, b, shape);
        var y = new Tensor(shape);
        Broadcasting.Binary(op, a.Data, a.Shape, b.Data, b.Shape, y.Data, shape);
        return Graph.Record(y, new BinaryNode(op, a, b));
    }

    private sealed class BinaryNode(BinaryOp op, Tensor a, Tensor b) : Node(a, b)
    {
        public override string Name => op + "Backward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            var s = output.Shape;
            switch (op)
            {
                case BinaryOp.Add:
                    Graph.AccumulateBroadcast(a, dy, s);
                    Graph.AccumulateBroadcast(b, dy, s);
                    break;
                case BinaryOp.Sub:
                    Graph.AccumulateBroadcast(a, dy, s);
                    if (Graph.Needs(b)) Graph.AccumulateBroadcast(b, Scaled(dy, -1f), s);
                    break;
                case BinaryOp.Mul:
                    // d(a⊙b) = b⊙da + a⊙db
                    if (Graph.Needs(a)) Graph.AccumulateBroadcast(a, Product(BinaryOp.Mul, dy, s, b), s);
                    if (Graph.Needs(b)) Graph.AccumulateBroadcast(b, Product(BinaryOp.Mul, dy, s, a), s);
                    break;
                default:
                    // d(a/b) = da/b − (a/b)·db/b = da/b − y·db/b
                    if (Graph.Needs(a)) Graph.AccumulateBroadcast(a, Product(BinaryOp.Div, dy, s, b), s);
                    if (Graph.Needs(b))
                    {
                        var g = Product(BinaryOp.Div, dy, s, b);
                        var yd = output.Data;
                        for (int i = 0; i < g.Length; i++) g[i] = -g[i] * yd[i];
                        Graph.AccumulateBroadcast(b, g, s);
                    }
                    break;
            }
        }

        private static float[] Scaled(ReadOnlySpan<float> dy, float k)
        {
            var g = new float[dy.Length];
            System.Numerics.Tensors.TensorPrimitives.Multiply(dy, k, g);
            return g;
        }

        private static float[] Product(BinaryOp op, ReadOnlySpan<float> dy, Shape s, Tensor other)
        {
            var g = new float[dy.Length];
            Broadcasting.Binary(op, dy, s, other.Data, other.Shape, g, s);
            return g;
        }
    }
}
