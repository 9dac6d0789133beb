using Nabla.Devices;

namespace Nabla.Cuda.Kernels;

/// <summary>
/// Activation codes shared by the fused kernels, and their device-side functions. Derivatives are taken from the
/// activation's output z, as the host layers do: σ′ = z(1−z), tanh′ = 1−z², relu′ = [z &gt; 0].
/// </summary>
internal static class Act
{
    // The codes are UnaryFunction's values (the library's one enumeration); kernels take them as ints.
    public const int Identity = (int)UnaryFunction.Identity, Sigmoid = (int)UnaryFunction.Sigmoid, Tanh = (int)UnaryFunction.Tanh,
        Relu = (int)UnaryFunction.Relu, Exp = (int)UnaryFunction.Exp, Log = (int)UnaryFunction.Log;

    public static float Apply(int act, float x) => act switch
    {
        Sigmoid => 1f / (1f + MathF.Exp(-x)),
        Tanh => MathF.Tanh(x),
        Relu => x > 0f ? x : 0f,
        Exp => MathF.Exp(x),
        Log => MathF.Log(x),
        _ => x,
    };

    public static float Derivative(int act, float z) => act switch
    {
        Sigmoid => z * (1f - z),
        Tanh => 1f - z * z,
        Relu => z > 0f ? 1f : 0f,
        _ => 1f,
    };
}
