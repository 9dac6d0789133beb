namespace Nabla.Training;

/// <summary>The loss became NaN or infinite: training cannot go on meaningfully.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
