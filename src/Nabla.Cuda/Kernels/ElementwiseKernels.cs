using Nabla.Tensors.Kernels;
using ILGPU;

namespace Nabla.Cuda.Kernels;

/// <summary>Element-wise and row kernels: one thread per element (or per row), no shared state.</summary>
internal static class ElementwiseKernels
{
    /// <summary><c>y = f(x)</c> (codes of <see cref="Act"/>).</summary>
    public static void Map(Index1D i, ArrayView<float> x, ArrayView<float> y, int f) => y[i] = Act.Apply(f, x[i]);

    /// <summary><c>y[i] = a[i mod aLen] ∘ b[i mod bLen]</c>: equal shapes and trailing broadcasts (bias rows, scalars).</summary>
    public static void Combine(Index1D i, ArrayView<float> a, int aLen, ArrayView<float> b, int bLen, ArrayView<float> y, int op)
    {
        float u = a[i % aLen], v = b[i % bLen];
        y[i] = op switch { 0 => u + v, 1 => u - v, 2 => u * v, _ => u / v };
    }

    /// <summary>GEMM epilogue: <c>y = act(y + b[col]) ⊙ dropout mask</c> over a (rows, Out) block, b from the arena.</summary>
    public static void BiasActivation(Index1D i, ArrayView<float> y, ArrayView<float> p, LayerArgs a)
    {
        float b = a.B >= 0 ? p[a.B + i % a.Out] : 0f;
        y[i] = Act.Apply(a.Act, y[i] + b) * DropoutMask.Factor(a.Seed, i, a.DropP);
    }

    /// <summary><c>dz ⊙= act′(z)</c> (⊙ the dropout mask), the activation's diagonal Jacobian applied to the adjoint.</summary>
    public static void ActivationBackward(Index1D i, ArrayView<float> dz, ArrayView<float> z, int act, uint seed, float dropP) =>
        dz[i] *= DropoutDerivative.Of(act, z[i], seed, i, dropP);

    /// <summary>Bias gradient: <c>db[j] = Σ_r dy[r, j]</c>, summed in row order (deterministic).</summary>
    public static void ColumnSum(Index1D j, ArrayView<float> dy, int rows, int cols, ArrayView<float> db)
    {
        float s = 0f;
        for (int r = 0; r < rows; r++) s += dy[r * cols + j];
        db[j] = s;
    }

    /// <summary>Softmax (or log-softmax) of one row per thread, the maximum subtracted first.</summary>
    public static void SoftmaxRows(Index1D r, ArrayView<float> x, ArrayView<float> y, int cols, int log)
    {
        int o = r * cols;
        float max = x[o];
        for (int j = 1; j < cols; j++) max = MathF.Max(max, x[o + j]);
        float sum = 0f;
        for (int j = 0; j < cols; j++) sum += MathF.Exp(x[o + j] - max);
        if (log != 0)
        {
            float logSum = MathF.Log(sum);
            for (int j = 0; j < cols; j++) y[o + j] = x[o + j] - max - logSum;
        }
        else
            for (int j = 0; j < cols; j++) y[o + j] = MathF.Exp(x[o + j] - max) / sum;
    }

    /// <summary>
    /// Sum of n elements by one group: each thread strides over the input, then a tree in shared memory. One group
    /// only, so the order is fixed and the result deterministic.
    /// </summary>
    public static void Sum(ArrayView<float> x, int n, ArrayView<float> y)
    {
        var partial = SharedMemory.Allocate<float>(256);
        int t = Group.IdxX, size = Group.DimX;
        float s = 0f;
        for (int i = t; i < n; i += size) s += x[i];
        partial[t] = s;
        Group.Barrier();
        for (int half = size / 2; half > 0; half /= 2)
        {
            if (t < half) partial[t] += partial[t + half];
            Group.Barrier();
        }
        if (t == 0) y[0] = partial[0];
    }
}
