namespace Nabla.Training;

/// <summary>
/// A device that can take over a trainer's epochs (the CUDA package's <c>CudaBackend</c> is one): it builds the
/// engine for the trainer's model, optimizer and loss, or says why it cannot. <see cref="TrainingRun.UseDevice"/>
/// decides with it where a run trains.
/// </summary>
public interface IAcceleratorFactory
{
    /// <summary>The device, for logs (<c>cuda:0 NVIDIA H200, cuBLAS</c>).</summary>
    string Description { get; }

    /// <summary>The engine that trains <paramref name="trainer"/> on this device.</summary>
    /// <exception cref="NotSupportedException">The device cannot run this model or loss; the message says what.</exception>
    ITrainingEngine Create(Trainer trainer, int inputFeatures, int batchSize);
}
