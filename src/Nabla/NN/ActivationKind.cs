namespace Nabla.NN;

/// <summary>The hidden-layer activations an <see cref="Mlp"/> can use.</summary>
public enum ActivationKind
{
    /// <summary>σ, the textbook's choice.</summary>
    Sigmoid,
    /// <summary>max(t, 0).</summary>
    Relu,
    /// <summary>tanh.</summary>
    Tanh,
}
