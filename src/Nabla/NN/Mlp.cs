using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>Builds multilayer perceptrons in PyTorch's layout: <c>Flatten, Linear, act, [Dropout], …, Linear</c>.</summary>
public static class Mlp
{
    /// <summary>
    /// <c>Flatten → (Linear → activation → Dropout?) per hidden width → Linear(·, classes)</c>; weights drawn from
    /// <paramref name="rng"/> layer by layer. The textbook's model is <c>Create(784, [32], Sigmoid, 10, rng)</c>.
    /// </summary>
    public static Sequential Create(int inputs, IReadOnlyList<int> hidden, ActivationKind activation, int classes, Rng rng,
        float dropout = 0f, Rng? dropoutRng = null)
        => new MlpArchitecture(inputs, [.. hidden], activation, classes, dropout).Create(rng, dropoutRng);
}
