using System.Globalization;
using System.Text;

namespace Nabla.Backprop;

/// <summary>
/// A small dense matrix of doubles for the textbook's explicit formulas, where precision matters more than
/// speed: the Jacobian blocks, their Kronecker products and the adjoints. A column vector is (n, 1).
/// </summary>
public sealed class DMatrix
{
    /// <summary>Creates a zero matrix.</summary>
    public DMatrix(int rows, int cols)
    {
        if (rows < 0 || cols < 0) throw new ArgumentException($"Bad matrix shape ({rows}, {cols}).");
        Rows = rows;
        Cols = cols;
        Data = new double[rows * cols];
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns.</summary>
    public int Cols { get; }

    /// <summary>Row-major elements.</summary>
    public double[] Data { get; }

    /// <summary>Element (i, j).</summary>
    public double this[int i, int j]
    {
        get => Data[i * Cols + j];
        set => Data[i * Cols + j] = value;
    }

    /// <summary>A matrix from rows of equal length.</summary>
    public static DMatrix FromRows(params double[][] rows)
    {
        var m = new DMatrix(rows.Length, rows.Length == 0 ? 0 : rows[0].Length);
        for (int i = 0; i < m.Rows; i++)
        {
            if (rows[i].Length != m.Cols) throw new ArgumentException($"Row {i} has {rows[i].Length} values; row 0 has {m.Cols}.");
            rows[i].CopyTo(m.Data, i * m.Cols);
        }
        return m;
    }

    /// <summary>A column vector (n, 1).</summary>
    public static DMatrix Column(params double[] v)
    {
        var m = new DMatrix(v.Length, 1);
        v.CopyTo(m.Data, 0);
        return m;
    }

    /// <summary>A row vector (1, n).</summary>
    public static DMatrix Row(params double[] v)
    {
        var m = new DMatrix(1, v.Length);
        v.CopyTo(m.Data, 0);
        return m;
    }

    /// <summary>diag(v): the square matrix with the vector's entries on its diagonal.</summary>
    public static DMatrix Diag(DMatrix v)
    {
        int n = v.Data.Length;
        var m = new DMatrix(n, n);
        for (int i = 0; i < n; i++) m[i, i] = v.Data[i];
        return m;
    }

    /// <summary>Matrix product.</summary>
    /// <exception cref="ArgumentException">Inner dimensions differ.</exception>
    public static DMatrix operator *(DMatrix a, DMatrix b)
    {
        if (a.Cols != b.Rows) throw new ArgumentException($"Matrix shapes ({a.Rows}, {a.Cols}) and ({b.Rows}, {b.Cols}) are not aligned.");
        var c = new DMatrix(a.Rows, b.Cols);
        for (int i = 0; i < a.Rows; i++)
            for (int p = 0; p < a.Cols; p++)
            {
                double av = a[i, p];
                if (av == 0) continue;
                for (int j = 0; j < b.Cols; j++) c.Data[i * c.Cols + j] += av * b.Data[p * b.Cols + j];
            }
        return c;
    }

    /// <summary>Element-wise difference.</summary>
    public static DMatrix operator -(DMatrix a, DMatrix b) => Zip(a, b, (x, y) => x - y);

    /// <summary>Element-wise sum.</summary>
    public static DMatrix operator +(DMatrix a, DMatrix b) => Zip(a, b, (x, y) => x + y);

    /// <summary>Scalar multiple.</summary>
    public static DMatrix operator *(double k, DMatrix a) => a.Map(x => k * x);

    /// <summary>Kronecker product <c>A ⊗ B</c>.</summary>
    public static DMatrix Kron(DMatrix a, DMatrix b)
    {
        var c = new DMatrix(a.Rows * b.Rows, a.Cols * b.Cols);
        for (int i = 0; i < a.Rows; i++)
            for (int j = 0; j < a.Cols; j++)
                for (int k = 0; k < b.Rows; k++)
                    for (int l = 0; l < b.Cols; l++)
                        c[i * b.Rows + k, j * b.Cols + l] = a[i, j] * b[k, l];
        return c;
    }

    /// <summary>Transpose.</summary>
    public DMatrix T()
    {
        var t = new DMatrix(Cols, Rows);
        for (int i = 0; i < Rows; i++)
            for (int j = 0; j < Cols; j++) t[j, i] = this[i, j];
        return t;
    }

    /// <summary>Applies <paramref name="f"/> to every element.</summary>
    public DMatrix Map(Func<double, double> f)
    {
        var m = new DMatrix(Rows, Cols);
        for (int i = 0; i < Data.Length; i++) m.Data[i] = f(Data[i]);
        return m;
    }

    /// <summary>Columns [0, count) of this matrix.</summary>
    public DMatrix LeftColumns(int count)
    {
        var m = new DMatrix(Rows, count);
        for (int i = 0; i < Rows; i++)
            for (int j = 0; j < count; j++) m[i, j] = this[i, j];
        return m;
    }

    /// <summary>The same elements with another shape.</summary>
    public DMatrix Reshape(int rows, int cols)
    {
        if (rows * cols != Data.Length) throw new ArgumentException($"Cannot reshape ({Rows}, {Cols}) to ({rows}, {cols}).");
        var m = new DMatrix(rows, cols);
        Data.CopyTo(m.Data, 0);
        return m;
    }

    /// <summary>Element-wise product (Hadamard, ⊙).</summary>
    public static DMatrix Hadamard(DMatrix a, DMatrix b) => Zip(a, b, (x, y) => x * y);

    private static DMatrix Zip(DMatrix a, DMatrix b, Func<double, double, double> f)
    {
        if (a.Rows != b.Rows || a.Cols != b.Cols) throw new ArgumentException($"Matrix shapes ({a.Rows}, {a.Cols}) and ({b.Rows}, {b.Cols}) differ.");
        var c = new DMatrix(a.Rows, a.Cols);
        for (int i = 0; i < a.Data.Length; i++) c.Data[i] = f(a.Data[i], b.Data[i]);
        return c;
    }

    /// <summary>Nested arrays, row by row (for JSON).</summary>
    public double[][] ToJagged()
    {
        var r = new double[Rows][];
        for (int i = 0; i < Rows; i++) r[i] = Data.AsSpan(i * Cols, Cols).ToArray();
        return r;
    }

    /// <summary>Formats rows of 4-decimal numbers, as PyTorch prints.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < Rows; i++)
        {
            if (i > 0) sb.Append(",\n ");
            sb.Append('[');
            for (int j = 0; j < Cols; j++)
            {
                if (j > 0) sb.Append(", ");
                sb.Append(this[i, j].ToString("F4", CultureInfo.InvariantCulture));
            }
            sb.Append(']');
        }
        return sb.Append(']').ToString();
    }
}
