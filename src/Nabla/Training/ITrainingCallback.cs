namespace Nabla.Training;

/// <summary>Called by <see cref="Trainer.Fit"/> after each epoch (Keras-style callbacks).</summary>
public interface ITrainingCallback
{
    /// <summary>Sees the epoch's metrics; may ask the trainer to stop.</summary>
    void OnEpochEnd(Trainer trainer, EpochMetrics metrics, ref bool stop);

    /// <summary>Called once when training ends (normally or stopped early).</summary>
    void OnTrainEnd(Trainer trainer) { }
}
