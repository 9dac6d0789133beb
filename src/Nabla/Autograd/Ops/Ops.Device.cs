using Nabla.Devices;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.Autograd;

/// <summary>
/// Dispatch of operations on device tensors to the backend that owns their data. Operands must share a device:
/// nothing moves implicitly (PyTorch refuses too). Device tensors compute forward only; gradients are computed on
/// the host, or by the device training engine (<c>Nabla.Cuda.CudaTrainer</c>) which fuses a whole step.
/// </summary>
public static partial class Ops
{
    private static bool OnDevice(Tensor a) => a.DeviceStorage is not null;

    private static bool OnDevice(Tensor a, Tensor b, string op)
    {
        if (a.DeviceStorage is null && b.DeviceStorage is null) return false;
        if (a.Device != b.Device)
            throw new InvalidOperationException(
                $"{op}: the operands are on {a.Device} and {b.Device}; move one with .To(...) so both are on the same device.");
        return true;
    }

    private static IDeviceBackend DeviceFor(Tensor t, string op, params Tensor[] inputs)
    {
        if (GradMode.IsEnabled)
            foreach (var x in inputs)
                if (Graph.Needs(x))
                    throw new NotSupportedException(
                        $"{op} on {t.Device}: autograd runs on the host. Compute gradients on cpu tensors, wrap device inference in GradMode.NoGrad(), or train with CudaTrainer.");
        return t.DeviceStorage!.Backend;
    }

    private static Tensor DeviceMatMul(Tensor a, Tensor b, bool transA, bool transB, int m, int n, int k)
    {
        var backend = DeviceFor(a, "matmul", a, b);
        var c = Tensor.Zeros(new Shape(m, n), a.Device);
        backend.MatMul(transA, transB, m, n, k, a.Slice, a.Shape[1], b.Slice, b.Shape[1], c.Slice, n);
        return c;
    }

    private static Tensor DeviceUnary(UnaryFunction f, Tensor x)
    {
        var backend = DeviceFor(x, f.ToString().ToLowerInvariant(), x);
        var y = Tensor.Zeros(x.Shape, x.Device);
        backend.Map(f, x.Slice, y.Slice, x.Size);
        return y;
    }

    private static Tensor DeviceBinary(BinaryOp op, Tensor a, Tensor b, Shape shape)
    {
        var backend = DeviceFor(a, op.ToString().ToLowerInvariant(), a, b);
        if (!IsTrailing(a.Shape, shape) || !IsTrailing(b.Shape, shape))
            throw new NotSupportedException(
                $"{op} of shapes {a.Shape} and {b.Shape} on {a.Device}: devices broadcast only a trailing block (a bias row, a scalar). Expand the operand on the host first.");
        var y = Tensor.Zeros(shape, a.Device);
        backend.Combine(op, a.Slice, a.Size, b.Slice, b.Size, y.Slice, shape.Size);
        return y;
    }

    /// <summary>Whether <paramref name="s"/> repeats across <paramref name="full"/> as its last dimensions.</summary>
    private static bool IsTrailing(Shape s, Shape full)
    {
        if (s.Size == 1 || s.Size == full.Size) return true;
        int lead = full.Rank - s.Rank, i = 0;
        while (i < s.Rank && s[i] == 1) i++; // leading ones broadcast like missing dimensions
        for (int j = i; j < s.Rank; j++) if (s[j] != full[lead + j]) return false;
        return true;
    }

    private static Tensor DeviceSoftmax(Tensor x, int outer, int n, int inner, bool log)
    {
        var backend = DeviceFor(x, log ? "log_softmax" : "softmax", x);
        if (inner != 1)
            throw new NotSupportedException($"softmax on {x.Device} runs along the last dimension only; shape is {x.Shape}.");
        var y = Tensor.Zeros(x.Shape, x.Device);
        backend.SoftmaxRows(x.Slice, y.Slice, outer, n, log);
        return y;
    }

    private static Tensor DeviceSum(Tensor x)
    {
        var backend = DeviceFor(x, "sum", x);
        var y = Tensor.Zeros(new Shape(), x.Device);
        backend.Sum(x.Slice, x.Size, y.Slice);
        return y;
    }

    private static NotSupportedException NotOnDevice(string op, Tensor x) =>
        new($"{op} is not implemented on {x.Device}; move the tensor with .Cpu() first.");
}
