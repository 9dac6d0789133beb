using Nabla.Tensors;

namespace Nabla.Optim;

/// <summary>
/// AdamW (torch.optim.AdamW): Adam with decoupled weight decay, <c>θ ← θ(1 − γλ)</c> before the Adam step
/// instead of adding λθ to the gradient. PyTorch's default λ for AdamW is 1e-2.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer; <paramref name="options"/> defaults to AdamW's (weight decay 1e-2).</summary>
    public AdamW(IReadOnlyList<Tensor> parameters, AdamOptions? options = null)
        : base(parameters, options ?? new AdamOptions(WeightDecay: 1e-2f)) { }

    /// <summary>PyTorch's spelling: <c>new AdamW(model.Parameters(), lr: 0.001f, weightDecay: 0.01f)</c>.</summary>
    public AdamW(IReadOnlyList<Tensor> parameters, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 1e-2f, bool amsgrad = false)
        : base(parameters, new AdamOptions(lr, beta1, beta2, eps, weightDecay, amsgrad)) { }

    /// <inheritdoc/>
    protected override bool Decoupled => true;
}
