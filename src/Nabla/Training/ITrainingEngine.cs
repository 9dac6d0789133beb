using Nabla.Data;
using Nabla.Losses;
using Nabla.Optim;

namespace Nabla.Training;

/// <summary>
/// What a device contributes to <see cref="Trainer"/>'s one epoch loop and one test loop: preparing the data,
/// running one batch, and totals at the end. The loop itself — the order, skipping batches on resume, counting
/// steps, progress callbacks, divergence checks, timing and the metrics — is the trainer's, the same on every
/// device. The CPU (<see cref="HostEngine"/>) runs each batch at once and reports its loss; a GPU queues the batch
/// and reports the epoch's totals when it ends, so that nothing waits for the device inside an epoch.
/// </summary>
/// <remarks>
/// The host model and optimizer are the authority between epochs: an engine that keeps copies elsewhere takes them
/// in <see cref="BeginEpoch"/> and gives them back in <see cref="EndEpoch"/>, so callbacks, checkpoints, early
/// stopping and saving see the trained weights.
/// </remarks>
public interface ITrainingEngine
{
    /// <summary>Where it runs, for logs (<c>cpu</c>, <c>cuda:0 NVIDIA H200, cuBLAS</c>).</summary>
    string Description { get; }

    /// <summary>
    /// Makes <paramref name="loader"/>'s dataset ready (a GPU uploads it once; not counted in epoch times), for training
    /// or testing with <paramref name="loss"/>, the trainer's. An engine trains with that loss or refuses it here, before
    /// any batch: never another loss in its place.
    /// </summary>
    /// <exception cref="NotSupportedException">The engine cannot compute this loss (or this kind of target); the message names it.</exception>
    void Prepare(DataLoader loader, Loss loss);

    /// <summary>Starts a training pass over <paramref name="loader"/>'s dataset in <paramref name="order"/> (the pass's sample order).</summary>
    void BeginEpoch(DataLoader loader, ReadOnlySpan<int> order, Optimizer optimizer, float maxGradNorm, int epoch);

    /// <summary>
    /// Trains on batch <paramref name="batch"/> of the pass (0-based): forward, loss, backward, update. Returns the
    /// batch's mean loss and right answers when known at once, else <see cref="StepOutcome.Deferred"/>.
    /// </summary>
    StepOutcome Step(DataLoader loader, int epoch, int batch);

    /// <summary>Ends the pass: the loss sum and right answers of the batches whose outcome was deferred.</summary>
    PassTotals EndEpoch();

    /// <summary>Starts an evaluation pass (no updates) in <paramref name="order"/>.</summary>
    void BeginEvaluation(DataLoader loader, ReadOnlySpan<int> order);

    /// <summary>Evaluates batch <paramref name="batch"/> of the pass.</summary>
    StepOutcome Evaluate(DataLoader loader, int batch);

    /// <summary>Ends the evaluation pass: the totals of the deferred batches.</summary>
    PassTotals EndEvaluation();
}

/// <summary>One batch's mean loss and right answers, if the engine knows them at once.</summary>
/// <param name="Loss">Mean loss over the batch.</param>
/// <param name="Correct">Samples classified right (before the update, for a training step).</param>
/// <param name="Known">False when the engine reports the batch in its pass totals instead.</param>
public readonly record struct StepOutcome(float Loss, int Correct, bool Known)
{
    /// <summary>Reported later, in the pass totals.</summary>
    public static StepOutcome Deferred => default;
}

/// <summary>Sums over a pass's deferred batches.</summary>
/// <param name="LossSum">Σ batch mean loss × batch size.</param>
/// <param name="Correct">Samples classified right.</param>
public readonly record struct PassTotals(double LossSum, int Correct);
