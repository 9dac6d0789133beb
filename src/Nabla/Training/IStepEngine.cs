namespace Nabla.Training;

/// <summary>
/// What differs between ways of running a model in <see cref="Trainer"/>'s one loop: the forward, the loss and
/// the gradients of one batch (<see cref="ExplicitEngine"/> over reused buffers, <see cref="AutogradEngine"/>
/// through the tape). The loop, the optimizer step, clipping, counters and messages are the trainer's.
/// </summary>
public interface IStepEngine
{
    /// <summary>Largest batch the engine takes.</summary>
    int MaxBatch { get; }

    /// <summary>
    /// Forward in the model's current mode, the mean loss, and (when <paramref name="backward"/>) the gradient of
    /// the mean loss with respect to every parameter written into its Grad (zeroed first). Returns the loss and how
    /// many samples were classified right.
    /// </summary>
    (float Loss, int Correct) Run(float[] features, int[] labels, int size, bool backward);

    /// <summary>As <see cref="Run"/> for regression: the loss against numeric <paramref name="targets"/> (size × outputs).</summary>
    float RunRegression(float[] features, float[] targets, int size, bool backward);
}
