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

    /// <inheritdoc/>
    protected override bool Decoupled => true;
}
