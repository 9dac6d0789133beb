using ILGPU.Runtime.Cuda;
using Nabla.Optim.Rules;

namespace Nabla.Cuda.Kernels;

/// <summary>
/// The lane of one CUDA thread for the shared optimizer rules (<see cref="UpdateRules"/>): <see cref="ScalarLane"/>'s
/// arithmetic, except the fused multiply-add, which ILGPU has no intrinsic for (MathF.FusedMultiplyAdd compiles to
/// an unresolved external function, even in a branch never taken). On a GPU it is the PTX instruction
/// <c>fma.rn.f32</c>; on ILGPU's CPU accelerator (the simulator), the product exactly in double plus c, rounded to
/// float: equal to the fused result except in rare double-rounding cases, which the simulator tests' tolerance covers.
/// </summary>
/// <param name="V">The value.</param>
internal readonly record struct DeviceLane(float V) : ILane<DeviceLane>
{
    public static DeviceLane Splat(float value) => new(value);

    public static DeviceLane operator +(DeviceLane a, DeviceLane b) => new(a.V + b.V);

    public static DeviceLane operator -(DeviceLane a, DeviceLane b) => new(a.V - b.V);

    public static DeviceLane operator *(DeviceLane a, DeviceLane b) => new(a.V * b.V);

    public static DeviceLane operator /(DeviceLane a, DeviceLane b) => new(a.V / b.V);

    public static DeviceLane Sqrt(DeviceLane a) => new(MathF.Sqrt(a.V));

    public static DeviceLane Max(DeviceLane a, DeviceLane b) => new(MathF.Max(a.V, b.V));

    public static DeviceLane Sign(DeviceLane a) => new(a.V > 0f ? 1f : a.V < 0f ? -1f : 0f);

    public static DeviceLane FusedMultiplyAdd(DeviceLane a, DeviceLane b, DeviceLane c)
    {
        if (!CudaAsm.IsSupported) return new((float)((double)a.V * b.V + c.V));
        CudaAsm.Emit("fma.rn.f32 %0, %1, %2, %3;", out float r, a.V, b.V, c.V);
        return new(r);
    }
}
