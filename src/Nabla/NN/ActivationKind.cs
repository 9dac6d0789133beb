using Nabla.Devices;

namespace Nabla.NN;

/// <summary>
/// The hidden-layer activations a model can use. Each value is its <see cref="UnaryFunction"/> (the kernel-level
/// enumeration), so converting between the two is a cast, not a table.
/// </summary>
public enum ActivationKind
{
    /// <summary>σ, the textbook's choice.</summary>
    Sigmoid = UnaryFunction.Sigmoid,
    /// <summary>max(t, 0).</summary>
    Relu = UnaryFunction.Relu,
    /// <summary>tanh.</summary>
    Tanh = UnaryFunction.Tanh,
}
