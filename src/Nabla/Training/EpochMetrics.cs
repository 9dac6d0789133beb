namespace Nabla.Training;

/// <summary>What one epoch of training measured.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's batches (weighted by batch size).</param>
/// <param name="TrainAccuracy">Fraction of training samples classified right, before each batch's update.</param>
/// <param name="Seconds">Wall time of the epoch's training (not of validation).</param>
/// <param name="SamplesPerSecond">Training throughput.</param>
/// <param name="LearningRate">Learning rate used during the epoch.</param>
/// <param name="Validation">Loss and accuracy on the validation set, if one was given.</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double Seconds,
    double SamplesPerSecond, float LearningRate, EvalResult? Validation);

/// <summary>Loss and accuracy of a model on a dataset.</summary>
/// <param name="Loss">Mean loss.</param>
/// <param name="Correct">Samples classified right.</param>
/// <param name="Count">Samples seen.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record EvalResult(double Loss, int Correct, int Count, double Seconds)
{
    /// <summary>Correct / Count.</summary>
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;
}
