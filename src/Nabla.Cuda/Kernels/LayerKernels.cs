using Nabla.Optim.Rules;
using Nabla.Tensors.Kernels;
using ILGPU;

namespace Nabla.Cuda.Kernels;

/// <summary>
/// One narrow layer's shape and where it sits: offsets of W and b in the parameter arena (b &lt; 0: no bias), its
/// activation, the previous layer's activation (for the adjoint), and how to find input row r — directly, or, for
/// the first layer, as dataset row <c>order[RowStart + r]</c> so that no gathered copy of the batch is needed.
/// </summary>
internal struct LayerArgs
{
    public int In, Out, Act, PrevAct, Batch, W, B, RowStart, Indirect;
    public float DropP, PrevDropP;   // dropout after this layer's activation / the previous one's (0: none, or evaluating)
    public uint Seed, PrevSeed;      // their mask seeds for this step

    public readonly long Row(ArrayView<int> order, int r) => Indirect != 0 ? order[RowStart + r] : r;
}

/// <summary>
/// GEMM-free kernels for narrow layers (the textbook's 784→32→10): a layer's whole forward, or one backward
/// product, is one launch with one thread per output element. At these sizes launches, not arithmetic, set the
/// time, so the kernels fuse what the math allows: bias and activation into the product, the dataset gather into
/// the first layer, softmax–cross-entropy into the output layer, and the optimizer into the weight gradient.
/// </summary>
internal static class LayerKernels
{
    /// <summary>Forward of <c>z = act(x·Wᵀ + b)</c> (textbook's <c>z_{i+1} = σ(W_i z_i)</c> with the bias).</summary>
    public static void Forward(Index1D i, ArrayView<float> x, ArrayView<int> order, ArrayView<float> p, ArrayView<float> z, LayerArgs a)
    {
        int r = i / a.Out, o = i - r * a.Out;
        long xo = a.Row(order, r) * a.In;
        int wo = a.W + o * a.In;
        float s = 0f;
        for (int k = 0; k < a.In; k++) s += x[xo + k] * p[wo + k];
        z[i] = Act.Apply(a.Act, s + (a.B >= 0 ? p[a.B + o] : 0f)) * DropoutMask.Factor(a.Seed, i, a.DropP);
    }

    /// <summary>
    /// The output layer and the loss in one thread per sample: logits <c>x·Wᵀ + b</c> into z, then the fused
    /// softmax–cross-entropy and its gradient (<see cref="LossKernels.Row"/>).
    /// </summary>
    public static void ForwardLoss(Index1D r, ArrayView<float> x, ArrayView<int> order, ArrayView<float> p, ArrayView<float> z,
        ArrayView<int> labels, ArrayView<float> dz, LayerArgs a, LossArgs l, ArrayView<double> stats)
    {
        long xo = a.Row(order, r) * a.In;
        for (int o = 0; o < a.Out; o++)
        {
            int wo = a.W + o * a.In;
            float s = a.B >= 0 ? p[a.B + o] : 0f;
            for (int k = 0; k < a.In; k++) s += x[xo + k] * p[wo + k];
            z[r * a.Out + o] = s;
        }
        LossKernels.Row(r, z, labels, order, a.Out, dz, l, stats);
    }

    /// <summary>
    /// Weight and bias gradients, <c>q_i = B_iᵀ p_{i+1}</c> in batched form: <c>dW = dyᵀ·x</c>, <c>db = Σ_r dy</c>;
    /// thread (o, c) with c = In computes the bias entry; sums run in batch order. With <paramref name="update"/>
    /// set, the thread applies the optimizer to its parameter at once; otherwise it writes the gradient arena.
    /// </summary>
    public static void Weights(Index1D i, ArrayView<float> dy, ArrayView<float> x, ArrayView<int> order, ArrayView<float> p,
        ArrayView<float> g, ArrayView<float> s1, ArrayView<float> s2, ArrayView<float> s3, LayerArgs a, StepConstants h, int update)
    {
        int o = i / (a.In + 1), c = i - o * (a.In + 1);
        if (c == a.In && a.B < 0) return;
        float s = 0f;
        if (c == a.In)
            for (int r = 0; r < a.Batch; r++) s += dy[r * a.Out + o];
        else
            for (int r = 0; r < a.Batch; r++) s += dy[r * a.Out + o] * x[a.Row(order, r) * a.In + c];
        int at = c == a.In ? a.B + o : a.W + o * a.In + c;
        if (update != 0) OptimizerKernels.Apply(at, p, s, s1, s2, s3, h);
        else g[at] = s;
    }

    /// <summary>
    /// The adjoint through the layer and the previous activation, <c>p_i = A_iᵀ p_{i+1}</c>:
    /// <c>dx = (dy·W) ⊙ act′(x)</c>, where x is the previous activation's output (⊙ its dropout mask, when it has one).
    /// Runs before this layer's weights change.
    /// </summary>
    public static void Input(Index1D i, ArrayView<float> dy, ArrayView<float> p, ArrayView<float> x, ArrayView<float> dx, LayerArgs a)
    {
        int r = i / a.In, c = i - r * a.In;
        float s = 0f;
        for (int o = 0; o < a.Out; o++) s += dy[r * a.Out + o] * p[a.W + o * a.In + c];
        dx[i] = s * DropoutDerivative.Of(a.PrevAct, x[i], a.PrevSeed, i, a.PrevDropP);
    }
}
