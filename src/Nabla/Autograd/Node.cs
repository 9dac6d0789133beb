using Nabla.Tensors;

namespace Nabla.Autograd;

/// <summary>
/// A recorded operation: its inputs and the local backward rule. <see cref="Backward"/> receives the
/// gradient of the operation's output and <em>adds</em> each input's share into that input (micrograd's
/// <c>+=</c>), so a tensor used twice receives both contributions.
/// </summary>
internal abstract class Node : IGradFunction
{
    protected Node(params Tensor[] inputs) => Inputs = inputs;

    /// <summary>The tensors this operation read.</summary>
    public Tensor[] Inputs { get; }

    /// <summary>PyTorch-style name shown in <c>grad_fn=&lt;…&gt;</c>, e.g. <c>SigmoidBackward</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Adds d(loss)/d(input) into each input, given <paramref name="dOutput"/> = d(loss)/d(output).</summary>
    public abstract void Backward(Tensor output, ReadOnlySpan<float> dOutput);
}
