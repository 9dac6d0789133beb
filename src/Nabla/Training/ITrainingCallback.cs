namespace Nabla.Training;

/// <summary>
/// The one way to hook into training (Keras-style callbacks): <see cref="Trainer.Fit"/>, <see cref="Trainer.TrainingLoop"/>
/// and <see cref="Trainer.TrainEpoch"/> call these, in the order the callbacks were given. Every method has a
/// default that does nothing; implement the ones you need.
/// </summary>
public interface ITrainingCallback
{
    /// <summary>Before epoch <paramref name="epoch"/> (0-based) starts, before its order is drawn.</summary>
    void OnEpochBegin(Trainer trainer, int epoch) { }

    /// <summary>After each step, with the 0-based epoch and the batches of it done so far (on a GPU: queued so far).</summary>
    void OnStepEnd(Trainer trainer, int epoch, int batchesDone) { }

    /// <summary>Sees the epoch's metrics (with validation, under <see cref="Trainer.Fit"/>); may ask the trainer to stop.</summary>
    void OnEpochEnd(Trainer trainer, EpochMetrics metrics, ref bool stop) { }

    /// <summary>Called once when <see cref="Trainer.Fit"/> ends (normally or stopped early).</summary>
    void OnTrainEnd(Trainer trainer) { }
}

/// <summary>Callbacks from delegates, for the common one-liners.</summary>
public static class Callback
{
    /// <summary>A callback that runs <paramref name="action"/> with each epoch's metrics.</summary>
    public static ITrainingCallback OnEpochEnd(Action<EpochMetrics> action) => new EpochEnd(action);

    /// <summary>A callback that runs <paramref name="action"/> after each step with (epoch, batches done).</summary>
    public static ITrainingCallback OnStepEnd(Action<int, int> action) => new StepEnd(action);

    private sealed class EpochEnd(Action<EpochMetrics> action) : ITrainingCallback
    {
        public void OnEpochEnd(Trainer trainer, EpochMetrics metrics, ref bool stop) => action(metrics);
    }

    private sealed class StepEnd(Action<int, int> action) : ITrainingCallback
    {
        public void OnStepEnd(Trainer trainer, int epoch, int batchesDone) => action(epoch, batchesDone);
    }
}
