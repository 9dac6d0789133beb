namespace Nabla.Training;

/// <summary>
/// What a run (or one phase of it) ends with, for a front end to print or serialize: the epochs, why it stopped,
/// the test pass and where it ran. Built by <see cref="TrainingRun.Finish"/>, after the divergence check.
/// </summary>
/// <param name="History">The epochs trained in this phase, in order.</param>
/// <param name="Test">Loss and right answers on the test set.</param>
/// <param name="Regression">RMSE, MAE and R² per target, for a regression; null for a classifier.</param>
/// <param name="StoppedEarlyAt">The epoch early stopping ended the run at, or null.</param>
/// <param name="ConvergedAt">The epoch the training loss was found converged at, or null.</param>
/// <param name="Device">Where it trained (<c>cpu</c>, or the accelerator's description).</param>
public sealed record RunResult(IReadOnlyList<EpochMetrics> History, EvalResult Test, RegressionReport? Regression,
    int? StoppedEarlyAt, int? ConvergedAt, string Device)
{
    /// <summary>Seconds spent training (the epochs' sum; data loading and the test pass excluded).</summary>
    public double TrainSeconds => History.Sum(m => m.Seconds);
}
