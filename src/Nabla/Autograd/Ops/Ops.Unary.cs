using Nabla.Devices;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.Autograd;

public static partial class Ops
{
    /// <summary><c>exp(x)</c> element-wise; d/dx = exp(x).</summary>
    public static Tensor Exp(this Tensor x) => Unary(UnaryFunction.Exp, x);

    /// <summary><c>log(x)</c> element-wise; d/dx = 1/x.</summary>
    public static Tensor Log(this Tensor x) => Unary(UnaryFunction.Log, x);

    /// <summary><c>σ(x) = 1/(1+exp(−x))</c> element-wise; σ′ = σ(1−σ) (textbook 8.5.1).</summary>
    public static Tensor Sigmoid(this Tensor x) => Unary(UnaryFunction.Sigmoid, x);

    /// <summary><c>tanh(x)</c> element-wise; d/dx = 1 − tanh².</summary>
    public static Tensor Tanh(this Tensor x) => Unary(UnaryFunction.Tanh, x);

    /// <summary><c>max(x, 0)</c> element-wise; d/dx = 1 where x &gt; 0, else 0.</summary>
    public static Tensor Relu(this Tensor x) => Unary(UnaryFunction.Relu, x);

    private static Tensor Unary(UnaryFunction kind, Tensor x)
    {
        if (OnDevice(x)) return DeviceUnary(kind, x);
        var y = new Tensor(x.Shape);
        switch (kind)
        {
            case UnaryFunction.Exp: TensorPrimitives.Exp(x.Data, y.Data); break;
            case UnaryFunction.Log: TensorPrimitives.Log(x.Data, y.Data); break;
            case UnaryFunction.Sigmoid: Activations.Sigmoid(x.Data, y.Data); break;
            case UnaryFunction.Tanh: Activations.Tanh(x.Data, y.Data); break;
            case UnaryFunction.Relu: Activations.Relu(x.Data, y.Data); break;
            default: x.Data.CopyTo(y.Data); break;
        }
        return Graph.Record(y, new UnaryNode(kind, x));
    }

    private sealed class UnaryNode(UnaryFunction kind, Tensor x) : Node(x)
    {
        public override string Name => kind + "Backward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            var dx = new float[dy.Length];
            var y = output.Data;
            switch (kind)
            {
                case UnaryFunction.Exp: TensorPrimitives.Multiply(dy, y, dx); break;
                case UnaryFunction.Log: TensorPrimitives.Divide(dy, x.Data, dx); break;
                case UnaryFunction.Sigmoid: Activations.SigmoidBackward(y, dy, dx); break;
                case UnaryFunction.Tanh: Activations.TanhBackward(y, dy, dx); break;
                case UnaryFunction.Relu: Activations.ReluBackward(y, dy, dx); break;
                default: dy.CopyTo(dx); break;
            }
            Graph.Accumulate(x, dx);
        }
    }
}
