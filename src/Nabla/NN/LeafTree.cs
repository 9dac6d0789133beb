namespace Nabla.NN;

/// <summary>
/// Scratch for summing a block of micro-shards' ("leaves'") parameter gradients in one fixed balanced binary tree:
/// leaves [0, L) sum as (sum of the first half) + (sum of the second half), down to single leaves and pairs. The tree
/// depends only on the leaves, never on how many were computed together, so a process that computes 4 leaves and
/// two that compute 2 each (and then add their sums, <c>Nabla.Distributed</c>) get the same bits. Each level of the
/// recursion holds the second half's sum in a buffer of its own, allocated once at the first step that needs it.
/// </summary>
internal sealed class LeafTree
{
    private float[][] _levels = [];

    /// <summary>The scratch buffer of tree level <paramref name="depth"/>, at least <paramref name="length"/> floats (contents undefined).</summary>
    public Span<float> Scratch(int depth, int length)
    {
        if (_levels.Length <= depth) Array.Resize(ref _levels, depth + 1);
        if (_levels[depth] is not { } buffer || buffer.Length < length) _levels[depth] = buffer = new float[length];
        return buffer.AsSpan(0, length);
    }
}
