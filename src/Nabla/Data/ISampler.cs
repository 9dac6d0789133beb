using Nabla.Tensors;

namespace Nabla.Data;

/// <summary>Decides the order in which a <see cref="DataLoader"/> visits sample indices, epoch by epoch.</summary>
public interface ISampler
{
    /// <summary>Writes this epoch's order of the indices [0, count) into <paramref name="order"/>.</summary>
    void FillOrder(Span<int> order);
}

/// <summary>0, 1, 2, … every epoch (PyTorch's SequentialSampler, what shuffle=False gives).</summary>
public sealed class SequentialSampler : ISampler
{
    /// <inheritdoc/>
    public void FillOrder(Span<int> order)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
    }
}

/// <summary>A fresh random permutation every epoch, drawn from an explicit generator (shuffle=True).</summary>
public sealed class RandomSampler(Rng rng) : ISampler
{
    /// <summary>The generator the permutations come from.</summary>
    public Rng Rng { get; } = rng;

    /// <inheritdoc/>
    public void FillOrder(Span<int> order)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Rng.Shuffle(order);
    }
}

/// <summary>The same explicit order every epoch.</summary>
public sealed class IndexSampler : ISampler
{
    private readonly int[] _order;

    /// <summary>Uses <paramref name="order"/>, which must be a list of dataset indices.</summary>
    public IndexSampler(int[] order) => _order = order;

    /// <inheritdoc/>
    public void FillOrder(Span<int> order)
    {
        if (order.Length != _order.Length)
            throw new ArgumentException($"The explicit order has {_order.Length} indices; the loader expects {order.Length}.");
        _order.CopyTo(order);
    }
}
