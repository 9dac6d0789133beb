using System.Runtime.CompilerServices;

namespace Nabla.Tensors;

/// <summary>
/// The dimensions of a tensor: rank 0 (a scalar) to 4, stored inline so that a shape never allocates.
/// Row-major: the last dimension is contiguous.
/// </summary>
public readonly struct Shape : IEquatable<Shape>
{
    /// <summary>The largest rank a <see cref="Shape"/> holds.</summary>
    public const int MaxRank = 4;

    private readonly int _d0, _d1, _d2, _d3;

    /// <summary>Number of dimensions (0 for a scalar).</summary>
    public int Rank { get; }

    /// <summary>Creates a shape from its dimensions.</summary>
    /// <exception cref="ArgumentException">More than 4 dimensions, or a negative one.</exception>
    public Shape(params ReadOnlySpan<int> dims)
    {
        if (dims.Length > MaxRank)
            throw new ArgumentException($"A tensor has at most {MaxRank} dimensions; got {dims.Length}.");
        long size = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentException($"Dimensions must be non-negative; got {Format(dims)}.");
            size *= d;
            if (size > Array.MaxLength) throw new ArgumentException($"Shape {Format(dims)} has more than {Array.MaxLength} elements.");
        }
        Rank = dims.Length;
        _d0 = dims.Length > 0 ? dims[0] : 0;
        _d1 = dims.Length > 1 ? dims[1] : 0;
        _d2 = dims.Length > 2 ? dims[2] : 0;
        _d3 = dims.Length > 3 ? dims[3] : 0;
    }

    /// <summary>Size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis]
    {
        get
        {
            int a = NormalizeAxis(axis);
            return a switch { 0 => _d0, 1 => _d1, 2 => _d2, _ => _d3 };
        }
    }

    /// <summary>Total number of elements (1 for a scalar).</summary>
    public int Size
    {
        get
        {
            int s = 1;
            for (int i = 0; i < Rank; i++) s *= Dim(i);
            return s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Dim(int i) => i switch { 0 => _d0, 1 => _d1, 2 => _d2, _ => _d3 };

    /// <summary>Turns a possibly negative axis into an index in [0, Rank).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range for this rank.</exception>
    public int NormalizeAxis(int axis)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Rank)
            throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for shape {this}.");
        return a;
    }

    /// <summary>The dimensions as a new array.</summary>
    public int[] ToArray()
    {
        var a = new int[Rank];
        for (int i = 0; i < Rank; i++) a[i] = Dim(i);
        return a;
    }

    /// <summary>Product of the dimensions before <paramref name="axis"/>.</summary>
    public int Outer(int axis) { int s = 1; for (int i = 0; i < axis; i++) s *= Dim(i); return s; }

    /// <summary>Product of the dimensions after <paramref name="axis"/>.</summary>
    public int Inner(int axis) { int s = 1; for (int i = axis + 1; i < Rank; i++) s *= Dim(i); return s; }

    /// <summary>This shape with dimension <paramref name="axis"/> removed or set to 1.</summary>
    public Shape Reduce(int axis, bool keepDim)
    {
        Span<int> d = stackalloc int[MaxRank];
        int n = 0;
        for (int i = 0; i < Rank; i++)
        {
            if (i == axis) { if (keepDim) d[n++] = 1; }
            else d[n++] = Dim(i);
        }
        return new Shape(d[..n]);
    }

    /// <inheritdoc/>
    public bool Equals(Shape other)
    {
        if (Rank != other.Rank) return false;
        for (int i = 0; i < Rank; i++) if (Dim(i) != other.Dim(i)) return false;
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Rank, _d0, _d1, _d2, _d3);

    /// <summary>Shape equality.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    /// <summary>Shape inequality.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>Formats as PyTorch does: <c>(2, 3)</c>; a scalar is <c>()</c>.</summary>
    public override string ToString() => Format(ToArray());

    private static string Format(ReadOnlySpan<int> dims)
    {
        var parts = new string[dims.Length];
        for (int i = 0; i < dims.Length; i++) parts[i] = dims[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "(" + string.Join(", ", parts) + (dims.Length == 1 ? ",)" : ")");
    }

    /// <summary>
    /// The shape of an element-wise result under NumPy's broadcasting rules: align trailing dimensions;
    /// each pair must be equal or contain a 1.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast; the message names both.</exception>
    public static Shape Broadcast(Shape a, Shape b)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        Span<int> d = stackalloc int[MaxRank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Rank ? 1 : a.Dim(i - (rank - a.Rank));
            int db = i < rank - b.Rank ? 1 : b.Dim(i - (rank - b.Rank));
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"Shapes {a} and {b} cannot be broadcast together.");
            d[i] = da == 1 ? db : da;
        }
        return new Shape(d[..rank]);
    }
}
