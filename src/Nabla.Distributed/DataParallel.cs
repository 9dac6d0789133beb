using Nabla.Training;

namespace Nabla.Distributed;

/// <summary>
/// The processes of an MPI job as a device a <see cref="TrainingRun"/> can train on
/// (<c>run.UseDevice(new DataParallel(world), required: true)</c>): a <see cref="DataParallelEngine"/> around the trainer.
/// </summary>
/// <param name="world">The job.</param>
/// <param name="checkpointEvery">The run's <see cref="TrainingRun.CheckpointEvery"/>: the optimizer's state is gathered before those checkpoints.</param>
public sealed class DataParallel(MpiWorld world, int checkpointEvery = 0) : IAcceleratorFactory
{
    /// <inheritdoc/>
    public string Description => $"cpu, data-parallel over {world.Size} MPI processes";

    /// <inheritdoc/>
    public ITrainingEngine Create(Trainer trainer, int inputFeatures, int batchSize) =>
        new DataParallelEngine(world, trainer, inputFeatures, batchSize, checkpointEvery);
}
