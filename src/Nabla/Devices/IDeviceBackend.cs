namespace Nabla.Devices;

/// <summary>
/// What a device must compute for <see cref="Autograd.Ops"/> to dispatch a tensor operation to it. Operands are
/// row-major and contiguous from their slice. Calls may return before the device finishes; reads
/// (<see cref="IDeviceStorage.Download"/>, <see cref="Sum"/>) wait for it.
/// </summary>
public interface IDeviceBackend
{
    /// <summary>The device this backend computes on.</summary>
    Device Device { get; }

    /// <summary>A one-line description for logs (<c>cuda:0 NVIDIA H200, cuBLAS</c>).</summary>
    string Description { get; }

    /// <summary>New zeroed device memory of <paramref name="length"/> floats.</summary>
    IDeviceStorage Allocate(int length);

    /// <summary>Row-major <c>C = op(A)·op(B)</c>, C being m×n, the inner dimension k.</summary>
    void MatMul(bool transA, bool transB, int m, int n, int k, DeviceSlice a, int lda, DeviceSlice b, int ldb, DeviceSlice c, int ldc);

    /// <summary><c>y[i] = f(x[i])</c> for i &lt; n.</summary>
    void Map(UnaryFunction f, DeviceSlice x, DeviceSlice y, int n);

    /// <summary>
    /// <c>y[i] = a[i mod aLength] ∘ b[i mod bLength]</c> for i &lt; n: equal shapes, and a trailing broadcast
    /// (a bias row over a batch, a scalar) where one operand's shape is the other's last dimensions.
    /// </summary>
    void Combine(BinaryOp op, DeviceSlice a, int aLength, DeviceSlice b, int bLength, DeviceSlice y, int n);

    /// <summary>Softmax (or log-softmax) of each of <paramref name="rows"/> rows of <paramref name="cols"/>.</summary>
    void SoftmaxRows(DeviceSlice x, DeviceSlice y, int rows, int cols, bool log);

    /// <summary>Sum of n elements into <c>y[0]</c>, on the device.</summary>
    void Sum(DeviceSlice x, int n, DeviceSlice y);
}
