using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.Optim;

/// <summary>
/// An optimizer step run inside the backward pass: each parameter is updated as soon as its gradient is final, and a
/// weight matrix row block by row block, inside the parallel part of the weight-gradient GEMM that computed it. The
/// update reads the rows while they are still in that core's cache, and the step needs no pass of its own over the
/// parameters (for the textbook's model, a separate SGD pass cost as much as computing the gradient it applies).
/// The arithmetic is the optimizer's own rule, element by element, so the result is the same bits as
/// <c>backward(); step()</c>; only the order in which elements are updated changes, which an element-wise rule cannot
/// see. The caller must make sure nothing reads a parameter between its update and the end of the backward pass:
/// the engine computes each layer's dℓ/dx before updating that layer's weights.
/// </summary>
internal sealed class FusedUpdate : NN.IGradientSink
{
    private readonly Dictionary<Tensor, ParameterStep> _steps = new(ReferenceEqualityComparer.Instance);

    /// <summary>Prepares the per-parameter hooks of <paramref name="optimizer"/> (allocated once, reused every step).</summary>
    public FusedUpdate(Optimizer optimizer)
    {
        Optimizer = optimizer;
        for (int i = 0; i < optimizer.Parameters.Length; i++)
            _steps[optimizer.Parameters[i]] = new ParameterStep(optimizer, i);
    }

    /// <summary>The optimizer whose step this runs.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>
    /// Whether fusing is the same as <c>backward(); step()</c> for a model with these parameters: the optimizer
    /// updates exactly them, each once (a fused backward updates what it reaches, and nothing else).
    /// </summary>
    public static bool Covers(Optimizer optimizer, IReadOnlyList<Tensor> modelParameters)
    {
        if (optimizer.Parameters.Length != modelParameters.Count) return false;
        var set = new HashSet<Tensor>(optimizer.Parameters, ReferenceEqualityComparer.Instance);
        return set.Count == modelParameters.Count && modelParameters.All(set.Contains);
    }

    /// <summary>
    /// Starts <paramref name="p"/>'s update and returns the hook that applies it to rows of <paramref name="rowLength"/>
    /// elements as a GEMM finishes them (see <see cref="IRowsObserver"/>); null if the optimizer does not hold p.
    /// </summary>
    public IRowsObserver? BeginRows(Tensor p, int rowLength)
    {
        if (!_steps.TryGetValue(p, out var step)) return null;
        step.RowLength = rowLength;
        Optimizer.BeginParameter(step.Index);
        return step;
    }

    /// <summary>Updates all of <paramref name="p"/> now (its gradient is final); nothing if the optimizer does not hold it.</summary>
    public void GradientReady(Tensor p)
    {
        if (!_steps.TryGetValue(p, out var step)) return;
        Optimizer.BeginParameter(step.Index);
        Optimizer.UpdateParameter(step.Index);
    }

    private sealed class ParameterStep(Optimizer optimizer, int index) : IRowsObserver
    {
        public int Index { get; } = index;
        public int RowLength;

        public void RowsDone(int row0, int rows, bool whole)
        {
            if (whole) optimizer.UpdateParameter(Index);
            else optimizer.UpdateRange(Index, row0 * RowLength, rows * RowLength);
        }
    }
}
