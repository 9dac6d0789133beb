using Nabla.Data;
using Nabla.Optim;

namespace Nabla.Training;

/// <summary>
/// Runs a <see cref="Trainer"/>'s epochs and evaluations on another device (the CUDA backend's fused engine).
/// The host model and optimizer stay authoritative between calls: an implementation copies them to the device
/// when a call starts and back when it ends, so callbacks, checkpoints, early stopping and saving work unchanged.
/// </summary>
public interface ITrainingAccelerator
{
    /// <summary>Where it runs, for logs (<c>cuda:0 NVIDIA H200, cuBLAS</c>).</summary>
    string Description { get; }

    /// <summary>
    /// One pass over <paramref name="loader"/>'s dataset in its sampler's order and batch size, skipping the first
    /// <paramref name="skipBatches"/> batches (a resumed epoch); <paramref name="afterStep"/> gets the batches done.
    /// <paramref name="epoch"/> is the 0-based epoch index (randomness such as dropout masks may depend on it).
    /// </summary>
    EpochMetrics TrainEpoch(DataLoader loader, Optimizer optimizer, float maxGradNorm, int epoch, int skipBatches, Action<int>? afterStep);

    /// <summary>Mean loss and accuracy on <paramref name="loader"/>'s dataset.</summary>
    EvalResult Test(DataLoader loader);
}
