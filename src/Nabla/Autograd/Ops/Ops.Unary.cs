using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.Autograd;

public static partial class Ops
{
    private enum UnaryKind { Exp, Log, Sigmoid, Tanh, Relu }

    /// <summary><c>exp(x)</c> element-wise; d/dx = exp(x).</summary>
    public static Tensor Exp(this Tensor x) => Unary(UnaryKind.Exp, x);

    /// <summary><c>log(x)</c> element-wise; d/dx = 1/x.</summary>
    public static Tensor Log(this Tensor x) => Unary(UnaryKind.Log, x);

    /// <summary><c>σ(x) = 1/(1+exp(−x))</c> element-wise; σ′ = σ(1−σ) (textbook 8.5.1).</summary>
    public static Tensor Sigmoid(this Tensor x) => Unary(UnaryKind.Sigmoid, x);

    /// <summary><c>tanh(x)</c> element-wise; d/dx = 1 − tanh².</summary>
    public static Tensor Tanh(this Tensor x) => Unary(UnaryKind.Tanh, x);

    /// <summary><c>max(x, 0)</c> element-wise; d/dx = 1 where x &gt; 0, else 0.</summary>
    public static Tensor Relu(this Tensor x) => Unary(UnaryKind.Relu, x);

    private static Tensor Unary(UnaryKind kind, Tensor x)
    {
        if (OnDevice(x)) return DeviceUnary(kind, x);
        var y = new Tensor(x.Shape);
        switch (kind)
        {
            case UnaryKind.Exp: TensorPrimitives.Exp(x.Data, y.Data); break;
            case UnaryKind.Log: TensorPrimitives.Log(x.Data, y.Data); break;
            case UnaryKind.Sigmoid: Activations.Sigmoid(x.Data, y.Data); break;
            case UnaryKind.Tanh: Activations.Tanh(x.Data, y.Data); break;
            default: Activations.Relu(x.Data, y.Data); break;
        }
        return Graph.Record(y, new UnaryNode(kind, x));
    }

    private sealed class UnaryNode(UnaryKind kind, Tensor x) : Node(x)
    {
        public override string Name => kind + "Backward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            var dx = new float[dy.Length];
            var y = output.Data;
            switch (kind)
            {
                case UnaryKind.Exp: TensorPrimitives.Multiply(dy, y, dx); break;
                case UnaryKind.Log: TensorPrimitives.Divide(dy, x.Data, dx); break;
                case UnaryKind.Sigmoid: Activations.SigmoidBackward(y, dy, dx); break;
                case UnaryKind.Tanh: Activations.TanhBackward(y, dy, dx); break;
                default: Activations.ReluBackward(y, dy, dx); break;
            }
            Graph.Accumulate(x, dx);
        }
    }
}
