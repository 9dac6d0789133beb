namespace Nabla.Backprop;

/// <summary>
/// Section 8.5.3 exactly as written, for one sample: the forward loop computes
/// <c>z_{i+1} = σ(𝒲_i z_i)</c> and stores the Jacobian blocks <c>(A_i, B_i) = (Ã, B̃)</c> as full matrices —
/// <c>Ã = diag(σ′)𝒲_i</c>, <c>B̃ = diag(σ′) ⊗ z_iᵀ</c> — and, for the softmax layer,
/// <c>C̃ = [diag(γ) − γγᵀ]𝒲_L</c>, <c>D̃ = [diag(γ) − γγᵀ] ⊗ z_Lᵀ</c>; then <c>p_{L+1} = ∇ℓ = −y ⊘ ŷ</c> and the
/// backward loop <c>p_i = A_iᵀ p_{i+1}</c>, <c>q_i = B_iᵀ p_{i+1}</c>. Output: <c>∇f = (q_0, …, q_L)</c>.
/// Materializing B̃ costs O(n_{i+1}² n_i) memory: this form is for teaching and small sizes; see
/// <see cref="StructuredBackprop"/> for the one that scales.
/// </summary>
public static class LiteralBackprop
{
    /// <summary>
    /// Runs both loops for input <paramref name="x"/> and target distribution <paramref name="y"/> (one-hot).
    /// With <paramref name="bias"/>, each 𝒲_i has one extra last column: the weight of a constant 1 input
    /// appended to z_i (the textbook's "adding a 1 input to each neuron").
    /// </summary>
    public static BackpropResult Run(IReadOnlyList<DMatrix> weights, double[] x, double[] y, bool bias = false)
    {
        int layers = weights.Count; // L + 1
        var z = new List<DMatrix> { DMatrix.Column(x) };
        var a = new DMatrix[layers];
        var b = new DMatrix[layers];
        for (int i = 0; i < layers; i++)
        {
            var zi = bias ? WithOne(z[i]) : z[i];
            var w = weights[i];
            int nIn = z[i].Rows;
            if (w.Cols != zi.Rows) throw new ArgumentException($"Layer {i}: weight ({w.Rows}, {w.Cols}) does not fit an input of {zi.Rows}.");
            var t = w * zi;
            DMatrix next, jacobian;
            if (i < layers - 1)
            {
                next = t.Map(Sigmoid);
                jacobian = DMatrix.Diag(next.Map(s => s * (1 - s))); // J_σ = diag(σ ⊙ (1 − σ))
            }
            else
            {
                next = SoftmaxColumn(t);
                jacobian = DMatrix.Diag(next) - next * next.T(); // J_γ = diag(γ) − γγᵀ
            }
            a[i] = jacobian * w.LeftColumns(nIn);             // Ã (or C̃): the block for z_i
            b[i] = DMatrix.Kron(jacobian, zi.T());             // B̃ (or D̃) = J ⊗ z_iᵀ, 𝔹[z] = I ⊗ zᵀ
            z.Add(next);
        }
        var yHat = z[layers];
        double loss = 0;
        var p = new DMatrix(yHat.Rows, 1);
        for (int k = 0; k < yHat.Rows; k++)
        {
            if (y[k] != 0) loss -= y[k] * Math.Log(yHat.Data[k]);
            p.Data[k] = -y[k] / yHat.Data[k]; // p_{L+1} = ∇ℓ(ŷ) = −y ⊘ ŷ
        }
        var q = new DMatrix[layers];
        var adjoints = new DMatrix[layers + 1];
        adjoints[layers] = p;
        for (int i = layers - 1; i >= 0; i--)
        {
            q[i] = (b[i].T() * adjoints[i + 1]).Reshape(weights[i].Rows, weights[i].Cols); // q_i = B_iᵀ p_{i+1}
            adjoints[i] = a[i].T() * adjoints[i + 1];                                      // p_i = A_iᵀ p_{i+1}
        }
        return new BackpropResult(z, loss, q, adjoints, a, b);
    }

    internal static double Sigmoid(double t) => 1 / (1 + Math.Exp(-t));

    internal static DMatrix SoftmaxColumn(DMatrix t)
    {
        double max = t.Data.Max();
        var e = t.Map(v => Math.Exp(v - max));
        double sum = e.Data.Sum();
        return e.Map(v => v / sum);
    }

    private static DMatrix WithOne(DMatrix z)
    {
        var r = new DMatrix(z.Rows + 1, 1);
        z.Data.CopyTo(r.Data, 0);
        r.Data[z.Rows] = 1;
        return r;
    }
}
