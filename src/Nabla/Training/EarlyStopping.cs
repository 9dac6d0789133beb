namespace Nabla.Training;

/// <summary>
/// Stops training when the validation loss has not improved (by more than <see cref="MinDelta"/>) for
/// <see cref="Patience"/> epochs; with <see cref="RestoreBest"/>, puts back the weights of the best epoch.
/// </summary>
public sealed class EarlyStopping : ITrainingCallback
{
    private float[][]? _best;
    private int _wait;

    /// <summary>Creates the callback.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Patience below 1.</exception>
    public EarlyStopping(int patience, bool restoreBest = true, double minDelta = 0)
    {
        if (patience < 1) throw new ArgumentOutOfRangeException(nameof(patience), $"Patience must be ≥ 1; got {patience}.");
        Patience = patience;
        RestoreBest = restoreBest;
        MinDelta = minDelta;
    }

    /// <summary>Epochs without improvement tolerated.</summary>
    public int Patience { get; }

    /// <summary>Whether the best epoch's weights are restored at the end.</summary>
    public bool RestoreBest { get; }

    /// <summary>Smallest decrease that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Best validation loss seen.</summary>
    public double BestLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>Epoch of the best validation loss.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>Epoch at which training was stopped (0 if it ran to the end).</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>The snapshot of the best weights, one array per parameter (null until a first improvement, or without restore-best).</summary>
    public float[][]? BestWeights => _best;

    /// <summary>Epochs since the last improvement.</summary>
    public int EpochsWithoutImprovement => _wait;

    /// <summary>Puts back a state saved in a checkpoint (<see cref="Checkpoint"/>).</summary>
    public void Restore(double bestLoss, int bestEpoch, int wait, int stoppedEpoch, float[][]? best)
    {
        (BestLoss, BestEpoch, _wait, StoppedEpoch, _best) = (bestLoss, bestEpoch, wait, stoppedEpoch, best);
    }

    /// <inheritdoc/>
    public void OnEpochEnd(Trainer trainer, EpochMetrics metrics, ref bool stop)
    {
        if (metrics.Validation is null)
            throw new InvalidOperationException("Early stopping needs a validation set (use a validation split).");
        double loss = metrics.Validation.Loss;
        if (loss < BestLoss - MinDelta)
        {
            BestLoss = loss;
            BestEpoch = metrics.Epoch;
            _wait = 0;
            if (RestoreBest) Snapshot(trainer);
            return;
        }
        if (++_wait >= Patience)
        {
            stop = true;
            StoppedEpoch = metrics.Epoch;
        }
    }

    /// <inheritdoc/>
    public void OnTrainEnd(Trainer trainer)
    {
        if (!RestoreBest || _best is null) return;
        var ps = trainer.Model.Parameters();
        for (int i = 0; i < ps.Length; i++) _best[i].CopyTo(ps[i].Data);
    }

    private void Snapshot(Trainer trainer)
    {
        var ps = trainer.Model.Parameters();
        _best ??= [.. ps.Select(p => new float[p.Size])];
        for (int i = 0; i < ps.Length; i++) ps[i].Data.CopyTo(_best[i]);
    }
}
