namespace Nabla.Backprop;

/// <summary>
/// The same algorithm as <see cref="LiteralBackprop"/> on a batch, without ever forming a Jacobian block.
/// The blocks are only ever multiplied by an adjoint, and their structure makes that cheap
/// (Properties of the Kronecker product):
/// <c>B̃ᵀp = (diag(σ′)p) ⊗ z</c> is an outer product and <c>Ãᵀp = 𝒲ᵀ(diag(σ′)p)</c> a matrix–vector
/// product; at the softmax layer <c>D̃ᵀ(−y ⊘ ŷ) = (ŷ − y) ⊗ z</c> (textbook 8.5.2). Stacking the samples as
/// rows turns the per-sample outer products into one matrix product summed over the batch.
/// </summary>
public static class StructuredBackprop
{
    /// <summary>
    /// Mean loss and gradients over a batch: <paramref name="x"/> (B, n_0), <paramref name="y"/> (B, K) target
    /// distributions. Weights and <paramref name="bias"/> as in <see cref="LiteralBackprop.Run"/>.
    /// </summary>
    public static BackpropResult Run(IReadOnlyList<DMatrix> weights, DMatrix x, DMatrix y, bool bias = false)
    {
        int layers = weights.Count, batch = x.Rows;
        var z = new List<DMatrix> { x };
        for (int i = 0; i < layers; i++)
        {
            var zi = bias ? WithOnes(z[i]) : z[i];
            var t = zi * weights[i].T(); // (B, n_{i+1}): row r is 𝒲_i z̃_i for sample r
            z.Add(i < layers - 1 ? t.Map(LiteralBackprop.Sigmoid) : SoftmaxRows(t));
        }
        var yHat = z[layers];
        double loss = 0;
        for (int k = 0; k < yHat.Data.Length; k++)
            if (y.Data[k] != 0) loss -= y.Data[k] * Math.Log(yHat.Data[k]);
        // g = diag(J)ᵀ-applied adjoint at the pre-activation; for softmax + cross-entropy it is ŷ − y.
        var g = (1.0 / batch) * (yHat - y);
        var q = new DMatrix[layers];
        for (int i = layers - 1; i >= 0; i--)
        {
            var zi = bias ? WithOnes(z[i]) : z[i];
            q[i] = g.T() * zi;                                       // Σ_samples g ⊗ z̃_i
            if (i == 0) break;
            var p = g * weights[i].LeftColumns(z[i].Cols);           // p_i = 𝒲ᵀ g, one row per sample
            var s = z[i].Map(v => v * (1 - v));                      // σ′ = z(1 − z)
            g = DMatrix.Hadamard(p, s);                              // diag(σ′) p_i
        }
        return new BackpropResult(z, loss / batch, q, [], [], []);
    }

    private static DMatrix SoftmaxRows(DMatrix t)
    {
        var r = new DMatrix(t.Rows, t.Cols);
        for (int i = 0; i < t.Rows; i++)
        {
            var row = DMatrix.Column(t.Data.AsSpan(i * t.Cols, t.Cols).ToArray());
            LiteralBackprop.SoftmaxColumn(row).Data.CopyTo(r.Data, i * t.Cols);
        }
        return r;
    }

    private static DMatrix WithOnes(DMatrix z)
    {
        var r = new DMatrix(z.Rows, z.Cols + 1);
        for (int i = 0; i < z.Rows; i++)
        {
            for (int j = 0; j < z.Cols; j++) r[i, j] = z[i, j];
            r[i, z.Cols] = 1;
        }
        return r;
    }
}
