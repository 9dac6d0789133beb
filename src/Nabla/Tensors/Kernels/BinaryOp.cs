namespace Nabla.Tensors.Kernels;

/// <summary>The element-wise binary operations with broadcasting.</summary>
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
