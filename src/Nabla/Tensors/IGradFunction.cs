namespace Nabla.Tensors;

/// <summary>
/// The contract a recorded operation meets, so that a <see cref="Tensor"/> can point to the operation that made it
/// without this layer knowing autograd: <c>Nabla.Autograd</c> implements it and walks the graph.
/// </summary>
internal interface IGradFunction
{
    /// <summary>The tensors the operation read.</summary>
    Tensor[] Inputs { get; }

    /// <summary>PyTorch-style name shown in <c>grad_fn=&lt;…&gt;</c>, e.g. <c>SigmoidBackward</c>.</summary>
    string Name { get; }

    /// <summary>Adds d(loss)/d(input) into each input, given <paramref name="dOutput"/> = d(loss)/d(output).</summary>
    void Backward(Tensor output, ReadOnlySpan<float> dOutput);
}
