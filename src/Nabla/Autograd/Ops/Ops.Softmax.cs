using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.Autograd;

public static partial class Ops
{
    /// <summary>Softmax γ along <paramref name="axis"/>, stable (the maximum is subtracted first).</summary>
    public static Tensor Softmax(this Tensor x, int axis = -1) => SoftmaxCore(x, axis, log: false);

    /// <summary>log γ along <paramref name="axis"/>, computed as <c>x − max − log Σ exp(x − max)</c>.</summary>
    public static Tensor LogSoftmax(this Tensor x, int axis = -1) => SoftmaxCore(x, axis, log: true);

    private static Tensor SoftmaxCore(Tensor x, int axis, bool log)
    {
        int a = x.Shape.NormalizeAxis(axis);
        int outer = x.Shape.Outer(a), n = x.Shape[a], inner = x.Shape.Inner(a);
        if (OnDevice(x)) return DeviceSoftmax(x, outer, n, inner, log);
        var y = new Tensor(x.Shape);
        if (inner == 1)
        {
            if (log) Tensors.Kernels.Softmax.LogRows(x.Data, y.Data, outer, n);
            else Tensors.Kernels.Softmax.Rows(x.Data, y.Data, outer, n);
        }
        else
        {
            // A non-last axis: gather each strided line into a row, apply the row kernel, scatter back.
            var line = new float[n];
            var res = new float[n];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    for (int j = 0; j < n; j++) line[j] = x.Data[(o * n + j) * inner + i];
                    if (log) Tensors.Kernels.Softmax.LogRows(line, res, 1, n); else Tensors.Kernels.Softmax.Rows(line, res, 1, n);
                    for (int j = 0; j < n; j++) y.Data[(o * n + j) * inner + i] = res[j];
                }
        }
        return Graph.Record(y, new SoftmaxNode(x, log, outer, n, inner));
    }

    private sealed class SoftmaxNode(Tensor x, bool log, int outer, int n, int inner) : Node(x)
    {
        public override string Name => log ? "LogSoftmaxBackward" : "SoftmaxBackward";

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            // softmax: J_γ = diag(γ) − γγᵀ (textbook 8.5.2), so dx = γ ⊙ (dy − ⟨dy, γ⟩).
            // log-softmax: dx = dy − γ·Σdy.
            var y = output.Data;
            var dx = new float[x.Size];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    double s = 0;
                    for (int j = 0; j < n; j++)
                    {
                        int at = (o * n + j) * inner + i;
                        s += log ? dy[at] : (double)dy[at] * y[at];
                    }
                    for (int j = 0; j < n; j++)
                    {
                        int at = (o * n + j) * inner + i;
                        dx[at] = log ? (float)(dy[at] - MathF.Exp(y[at]) * s) : (float)(y[at] * (dy[at] - s));
                    }
                }
            Graph.Accumulate(x, dx);
        }
    }
}
