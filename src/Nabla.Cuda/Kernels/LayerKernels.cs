using ILGPU;

namespace Nabla.Cuda.Kernels;

/// <summary>
/// GEMM-free kernels for narrow layers (the textbook's 784→32→10): a layer's whole forward, or one backward
/// product, is one launch with one thread per output element. At these sizes launches, not arithmetic, set the
/// time, so fusing bias, activation and the activation's derivative into the products is what pays.
/// </summary>
internal static class LayerKernels
{
    /// <summary>Forward of <c>z = act(x·Wᵀ + b)</c> (textbook's <c>z_{i+1} = σ(W_i z_i)</c> with the bias).</summary>
    public static void LinearForward(Index1D i, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias,
        ArrayView<float> z, int inF, int outF, int act)
    {
        int r = i / outF, o = i - r * outF;
        int xo = r * inF, wo = o * inF;
        float s = 0f;
        for (int k = 0; k < inF; k++) s += x[xo + k] * w[wo + k];
        z[i] = Act.Apply(act, s + bias[o]);
    }

    /// <summary>
    /// Weight and bias gradients, <c>q_i = B_iᵀ p_{i+1}</c> in batched form: <c>dW = dyᵀ·x</c>, <c>db = Σ_r dy</c>.
    /// Thread (o, c) with c = inF computes the bias entry. Sums run in batch order.
    /// </summary>
    public static void LinearBackwardWeights(Index1D i, ArrayView<float> dy, ArrayView<float> x,
        ArrayView<float> dw, ArrayView<float> db, int batch, int inF, int outF)
    {
        int o = i / (inF + 1), c = i - o * (inF + 1);
        float s = 0f;
        if (c == inF)
        {
            for (int r = 0; r < batch; r++) s += dy[r * outF + o];
            db[o] = s;
        }
        else
        {
            for (int r = 0; r < batch; r++) s += dy[r * outF + o] * x[r * inF + c];
            dw[o * inF + c] = s;
        }
    }

    /// <summary>
    /// The adjoint through the layer and the previous activation, <c>p_i = A_iᵀ p_{i+1}</c>:
    /// <c>dx = (dy·W) ⊙ act′(x)</c>, where x is the previous activation's output.
    /// </summary>
    public static void LinearBackwardInput(Index1D i, ArrayView<float> dy, ArrayView<float> w, ArrayView<float> x,
        ArrayView<float> dx, int inF, int outF, int act)
    {
        int r = i / inF, c = i - r * inF;
        float s = 0f;
        for (int o = 0; o < outF; o++) s += dy[r * outF + o] * w[o * inF + c];
        dx[i] = s * Act.Derivative(act, x[i]);
    }
}
