using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.Autograd;

/// <summary>
/// Reverse-mode differentiation over the recorded graph: one topological sort from the root, then each node's
/// backward in reverse order. The graph is released as it is consumed (as PyTorch does without
/// <c>retain_graph</c>), so a second backward through it is an error.
/// </summary>
internal static class Graph
{
    public static void Backward(Tensor root, Tensor? gradient)
    {
        if (root.GraphReleased)
            throw new InvalidOperationException("Backward through a graph a second time: the graph is released after Backward(). Recompute the forward pass first.");
        if (root.GradFn is null && !root.RequiresGrad)
            throw new InvalidOperationException("Backward() on a tensor that does not require grad and has no grad_fn: set RequiresGrad on the leaves first.");
        float[] seed;
        if (gradient is null)
        {
            if (root.Size != 1)
                throw new InvalidOperationException($"Backward() without a gradient needs a scalar; shape is {root.Shape}. Pass the upstream gradient.");
            seed = [1f];
        }
        else
        {
            if (gradient.Shape != root.Shape)
                throw new ArgumentException($"Gradient shape {gradient.Shape} differs from tensor shape {root.Shape}.");
            seed = gradient.Data.ToArray();
        }
        var order = TopologicalOrder(root);
        Accumulate(root, seed);
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            var fn = t.GradFn!;
            var g = t.PendingGrad;
            t.PendingGrad = null;
            t.GradFn = null;
            t.GraphReleased = true;
            if (g is not null) fn.Backward(t, g);
        }
    }

    /// <summary>Non-leaf tensors reachable from <paramref name="root"/>, each after all of its inputs.</summary>
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, bool Expanded)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (t, expanded) = stack.Pop();
            if (t.GradFn is null) continue;
            if (expanded) { order.Add(t); continue; }
            if (!visited.Add(t)) continue;
            stack.Push((t, true));
            foreach (var input in t.GradFn.Inputs)
                if (input.GradFn is not null && !visited.Contains(input)) stack.Push((input, false));
        }
        return order;
    }

    /// <summary>Adds <paramref name="grad"/> into <paramref name="t"/>'s gradient: its Grad for a leaf, its pending buffer otherwise.</summary>
    public static void Accumulate(Tensor t, ReadOnlySpan<float> grad)
    {
        if (t.GradFn is null)
        {
            if (!t.RequiresGrad) return;
            if (t.Grad is null) t.Grad = new Tensor(grad.ToArray(), 0, t.Shape);
            else TensorPrimitives.Add(t.Grad.Data, grad, t.Grad.Data);
            return;
        }
        if (t.PendingGrad is null) t.PendingGrad = grad.ToArray();
        else TensorPrimitives.Add(t.PendingGrad, grad, t.PendingGrad);
    }

    /// <summary>Accumulates a gradient of the broadcast shape <paramref name="from"/> into <paramref name="t"/>, summing over broadcast dimensions.</summary>
    public static void AccumulateBroadcast(Tensor t, ReadOnlySpan<float> grad, Shape from)
    {
        if (!Needs(t)) return;
        if (from == t.Shape) { Accumulate(t, grad); return; }
        var reduced = new float[t.Size];
        Broadcasting.ReduceTo(grad, from, reduced, t.Shape);
        Accumulate(t, reduced);
    }

    /// <summary>Whether a gradient for <paramref name="t"/> is wanted at all.</summary>
    public static bool Needs(Tensor t) => t.RequiresGrad || t.GradFn is not null;

    /// <summary>Attaches <paramref name="node"/> to <paramref name="output"/> if recording is on and any input needs a gradient.</summary>
    public static Tensor Record(Tensor output, Node node)
    {
        if (!GradMode.IsEnabled) return output;
        foreach (var input in node.Inputs)
        {
            if (Needs(input))
            {
                output.GradFn = node;
                output.RequiresGrad = true;
                return output;
            }
        }
        return output;
    }
}
