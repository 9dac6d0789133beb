namespace Nabla.Backprop;

/// <summary>
/// What one pass of the textbook's algorithm produces.
/// </summary>
/// <param name="Z">The layer outputs z_0 = x, z_1, …, z_{L+1} = ŷ (columns; for a batch, (B, n) matrices).</param>
/// <param name="Loss">The cross-entropy (for a batch, its mean).</param>
/// <param name="Gradients">q_0 … q_L, each shaped like its weight matrix 𝒲_i (bias column last when used).</param>
/// <param name="Adjoints">p_0 … p_{L+1}; empty for the structured form, which never forms p_{L+1}.</param>
/// <param name="A">The blocks A_i (Ã, and C̃ for the last layer); empty for the structured form.</param>
/// <param name="B">The blocks B_i (B̃, and D̃ for the last layer); empty for the structured form.</param>
public sealed record BackpropResult(
    IReadOnlyList<DMatrix> Z,
    double Loss,
    IReadOnlyList<DMatrix> Gradients,
    IReadOnlyList<DMatrix> Adjoints,
    IReadOnlyList<DMatrix> A,
    IReadOnlyList<DMatrix> B);
