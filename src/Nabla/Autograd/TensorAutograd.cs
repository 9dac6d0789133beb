using Nabla.Tensors;

namespace Nabla.Autograd;

/// <summary>
/// <see cref="Tensor"/>'s autograd-recorded operators and <c>Backward</c>, as extension members: the tensor
/// layer below knows nothing of autograd, and <c>using Nabla.Autograd;</c> brings these in, with <see cref="Ops"/>.
/// </summary>
public static class TensorAutograd
{
    extension(Tensor t)
    {
        /// <summary>Back-propagates from this scalar: accumulates d(this)/d(leaf) into each leaf's <see cref="Tensor.Grad"/>.</summary>
        /// <exception cref="InvalidOperationException">This is not a scalar, or has no gradient history.</exception>
        public void Backward() => Graph.Backward(t, null);

        /// <summary>Back-propagates with an explicit upstream gradient of this tensor's shape.</summary>
        public void Backward(Tensor gradient) => Graph.Backward(t, gradient);

        /// <summary>Element-wise sum with broadcasting.</summary>
        public static Tensor operator +(Tensor a, Tensor b) => Ops.Add(a, b);

        /// <summary>Element-wise difference with broadcasting.</summary>
        public static Tensor operator -(Tensor a, Tensor b) => Ops.Sub(a, b);

        /// <summary>Element-wise product with broadcasting.</summary>
        public static Tensor operator *(Tensor a, Tensor b) => Ops.Mul(a, b);

        /// <summary>Element-wise quotient with broadcasting.</summary>
        public static Tensor operator /(Tensor a, Tensor b) => Ops.Div(a, b);

        /// <summary>Negation.</summary>
        public static Tensor operator -(Tensor a) => Ops.Neg(a);

        /// <summary>Adds a scalar.</summary>
        public static Tensor operator +(Tensor a, float b) => Ops.Add(a, Tensor.Scalar(b));

        /// <summary>Subtracts a scalar.</summary>
        public static Tensor operator -(Tensor a, float b) => Ops.Sub(a, Tensor.Scalar(b));

        /// <summary>Subtracts from a scalar.</summary>
        public static Tensor operator -(float a, Tensor b) => Ops.Sub(Tensor.Scalar(a), b);

        /// <summary>Multiplies by a scalar.</summary>
        public static Tensor operator *(Tensor a, float b) => Ops.Mul(a, Tensor.Scalar(b));

        /// <summary>Multiplies by a scalar.</summary>
        public static Tensor operator *(float a, Tensor b) => Ops.Mul(Tensor.Scalar(a), b);

        /// <summary>Divides by a scalar.</summary>
        public static Tensor operator /(Tensor a, float b) => Ops.Div(a, Tensor.Scalar(b));
    }
}
