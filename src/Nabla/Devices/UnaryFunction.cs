namespace Nabla.Devices;

/// <summary>
/// The element-wise functions of the kernel level: the one enumeration shared by the autograd ops, the layers
/// (<see cref="NN.ActivationKind"/> takes its values from it), the device backends and the CUDA kernels, whose
/// integer codes are these values. It lives here, at the bottom of the library, so that every layer above may use it.
/// </summary>
public enum UnaryFunction
{
    /// <summary>f(x) = x (a layer with no activation).</summary>
    Identity = 0,
    /// <summary>σ(x) = 1/(1+exp(−x)).</summary>
    Sigmoid = 1,
    /// <summary>tanh(x).</summary>
    Tanh = 2,
    /// <summary>max(x, 0).</summary>
    Relu = 3,
    /// <summary>exp(x).</summary>
    Exp = 4,
    /// <summary>log(x).</summary>
    Log = 5,
}

/// <summary>The element-wise binary operations with broadcasting (host kernels and device backends).</summary>
public enum BinaryOp
{
    /// <summary><c>a + b</c></summary>
    Add,
    /// <summary><c>a − b</c></summary>
    Sub,
    /// <summary><c>a · b</c></summary>
    Mul,
    /// <summary><c>a / b</c></summary>
    Div,
}
