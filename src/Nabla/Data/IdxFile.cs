namespace Nabla.Data;

/// <summary>The contents of an IDX file of unsigned bytes: its dimensions and its data, row-major.</summary>
/// <param name="Dimensions">E.g. (60000, 28, 28) for images, (60000) for labels.</param>
/// <param name="Data">The bytes, <c>Π Dimensions</c> of them (read into memory, or mapped from a raw cached copy).</param>
public sealed record IdxFile(int[] Dimensions, ReadOnlyMemory<byte> Data)
{
    /// <summary>Number of items (the first dimension).</summary>
    public int Count => Dimensions[0];

    /// <summary>Bytes per item (the product of the other dimensions).</summary>
    public int ItemSize => Dimensions.Length == 1 ? 1 : Dimensions[1..].Aggregate(1, (a, b) => a * b);
}
