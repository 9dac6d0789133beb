namespace Nabla.Training;

/// <summary>
/// Stops when the training loss has stopped improving: scikit-learn's MLP rule (<c>tol</c>, <c>n_iter_no_change</c>)
/// — an epoch whose loss is not below the best by more than <see cref="Tolerance"/> counts as no change, and more than
/// <see cref="Patience"/> such epochs in a row end the run. Needs no validation set (unlike <see cref="EarlyStopping"/>);
/// what a table trains with by default, so that a small table gets its many epochs and a large one stops once learnt.
/// </summary>
public sealed class ConvergenceStopping : ITrainingCallback
{
    /// <summary>Creates the callback.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A tolerance that is negative or not finite, or a patience below 1.</exception>
    public ConvergenceStopping(double tolerance = 1e-4, int patience = 10)
    {
        if (!(tolerance >= 0) || !double.IsFinite(tolerance)) throw new ArgumentOutOfRangeException(nameof(tolerance), $"tol must be ≥ 0; got {tolerance}.");
        if (patience < 1) throw new ArgumentOutOfRangeException(nameof(patience), $"n_iter_no_change must be ≥ 1; got {patience}.");
        (Tolerance, Patience) = (tolerance, patience);
    }

    /// <summary>How much better than the best an epoch's loss must be to count as a change.</summary>
    public double Tolerance { get; }

    /// <summary>Epochs without change tolerated (the run stops at the one after).</summary>
    public int Patience { get; }

    /// <summary>The best training loss seen.</summary>
    public double BestLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>Epochs in a row without change.</summary>
    public int EpochsWithoutChange { get; private set; }

    /// <summary>The epoch the run stopped at (0 while it runs or when it ran to the end).</summary>
    public int StoppedEpoch { get; private set; }

    /// <inheritdoc/>
    public void OnEpochEnd(Trainer trainer, EpochMetrics metrics, ref bool stop)
    {
        double loss = metrics.TrainLoss;
        EpochsWithoutChange = loss > BestLoss - Tolerance ? EpochsWithoutChange + 1 : 0;
        if (loss < BestLoss) BestLoss = loss;
        if (EpochsWithoutChange <= Patience) return;
        StoppedEpoch = metrics.Epoch;
        stop = true;
    }

    /// <summary>The state a checkpoint keeps.</summary>
    internal Dictionary<string, double> SaveState() => new() { ["best"] = BestLoss, ["wait"] = EpochsWithoutChange, ["stopped"] = StoppedEpoch };

    /// <summary>Puts back <see cref="SaveState"/>'s values.</summary>
    /// <exception cref="FormatException">Out of range.</exception>
    internal void RestoreState(IReadOnlyDictionary<string, double> state)
    {
        if (!state.TryGetValue("best", out double best) || !state.TryGetValue("wait", out double wait) || !state.TryGetValue("stopped", out double stopped)
            || double.IsNaN(best) || wait < 0 || wait > int.MaxValue || stopped < 0 || stopped > int.MaxValue)
            throw new FormatException("bad convergence state");
        (BestLoss, EpochsWithoutChange, StoppedEpoch) = (best, (int)wait, (int)stopped);
    }
}
