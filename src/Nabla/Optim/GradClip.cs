using Nabla.Tensors;

namespace Nabla.Optim;

/// <summary>Gradient clipping (torch.nn.utils.clip_grad_norm_).</summary>
public static class GradClip
{
    /// <summary>
    /// Scales all gradients by <c>maxNorm/(‖g‖₂ + 1e-6)</c> when their joint 2-norm exceeds
    /// <paramref name="maxNorm"/>; returns the norm before clipping.
    /// </summary>
    public static float ClipGradNorm(IReadOnlyList<Tensor> parameters, float maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"max_norm must be positive; got {maxNorm}.");
        double sq = 0;
        foreach (var p in parameters)
            if (p.Grad is not null) sq += TensorPrimitives.SumOfSquares(p.Grad.Data);
        float norm = (float)Math.Sqrt(sq);
        float coef = maxNorm / (norm + 1e-6f);
        if (coef < 1)
            foreach (var p in parameters)
                if (p.Grad is not null) TensorPrimitives.Multiply(p.Grad.Data, coef, p.Grad.Data);
        return norm;
    }
}
