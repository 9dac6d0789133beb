using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Nabla.Data;

/// <summary>An array read from a NumPy <c>.npy</c> file, as doubles, with its shape.</summary>
/// <param name="Shape">The dimensions (C order).</param>
/// <param name="Values">The elements, row-major.</param>
/// <param name="IsInteger">Whether the file's dtype is an integer type (labels must be).</param>
public sealed record NpyArray(long[] Shape, double[] Values, bool IsInteger);

/// <summary>
/// Reads NumPy's <c>.npy</c> format (versions 1–3): the magic <c>\x93NUMPY</c>, a header dictionary
/// (<c>descr</c>, <c>fortran_order</c>, <c>shape</c>), then the data. Little-endian float16/32/64, signed and unsigned
/// integers of 1–8 bytes and bool are read; C order only. The shape times the item size must equal the bytes after
/// the header before anything is allocated. Written by hand: no maintained .NET package reads .npy without pulling in
/// a NumPy-like runtime.
/// </summary>
public static class NpyReader
{
    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="DataFormatException">Missing, malformed, big-endian, Fortran-ordered, or of an unsupported dtype.</exception>
    public static NpyArray Read(string path)
    {
        using var f = InputFile.OpenRead(path);
        var (dims, kind, size, count) = ReadLayout(path, f);
        var raw = new byte[count * size];
        f.ReadExactly(raw);
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = Element(raw.AsSpan(i * size, size), kind, size);
        return new NpyArray(dims, values, kind is 'i' or 'u' or 'b');
    }

    /// <summary>Reads and checks the header; leaves <paramref name="f"/> at the data, whose length it has checked.</summary>
    private static (long[] Shape, char Kind, int Size, long Count) ReadLayout(string path, FileStream f)
    {
        Span<byte> magic = stackalloc byte[8];
        if (f.Read(magic) < 8 || magic[0] != 0x93 || !magic[1..6].SequenceEqual("NUMPY"u8))
            throw new DataFormatException($"{path}: not a .npy file (no \\x93NUMPY magic).");
        int major = magic[6];
        int headerLength;
        if (major == 1)
        {
            Span<byte> b = stackalloc byte[2];
            if (f.Read(b) < 2) throw new DataFormatException($"{path}: truncated header.");
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(b);
        }
        else if (major is 2 or 3)
        {
            Span<byte> b = stackalloc byte[4];
            if (f.Read(b) < 4) throw new DataFormatException($"{path}: truncated header.");
            headerLength = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(b), int.MaxValue);
        }
        else throw new DataFormatException($"{path}: .npy version {major} is not supported (1–3 are).");
        if (headerLength > 1 << 20 || headerLength > f.Length - f.Position) throw new DataFormatException($"{path}: header length {headerLength} does not fit the file.");
        var headerBytes = new byte[headerLength];
        f.ReadExactly(headerBytes);
        // Versions 1 and 2 write the header in Latin-1, version 3 in UTF-8 (numpy.lib.format).
        string text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        NpyHeader header;
        try
        {
            header = NpyHeader.Parse(text, major);
        }
        catch (FormatException e)
        {
            throw new DataFormatException($"{path}: {e.Message}.", e);
        }
        if (header.FortranOrder) throw new DataFormatException($"{path}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray.");
        string dtype = header.Descr;
        if (dtype.Length < 3 || dtype[0] == '>') throw new DataFormatException($"{path}: dtype '{dtype}' is not little-endian; save with .astype('<f4').");
        char kind = dtype[1];
        if (dtype[0] is not ('<' or '|' or '=') || !int.TryParse(dtype.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int size) || !Supported(kind, size))
            throw new DataFormatException($"{path}: dtype '{dtype}' is not supported (float16/32/64, integers, bool).");
        var dims = header.Shape;
        long count = 1;
        foreach (long d in dims) count = d == 0 ? 0 : count > int.MaxValue / d ? int.MaxValue + 1L : count * d;
        if (count > int.MaxValue / 8) throw new DataFormatException($"{path}: shape ({string.Join(", ", dims)}) is too large.");
        if (count * size != f.Length - f.Position)
            throw new DataFormatException($"{path}: shape ({string.Join(", ", dims)}) of {dtype} needs {count * size} bytes but the file holds {f.Length - f.Position}: truncated or corrupt.");
        return (dims, kind, size, count);
    }

    private static bool Supported(char kind, int size) => kind switch
    {
        'f' => size is 2 or 4 or 8,
        'i' or 'u' => size is 1 or 2 or 4 or 8,
        'b' => size == 1,
        _ => false,
    };

    private static double Element(ReadOnlySpan<byte> b, char kind, int size) => (kind, size) switch
    {
        ('f', 2) => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
        ('f', 4) => BinaryPrimitives.ReadSingleLittleEndian(b),
        ('f', 8) => BinaryPrimitives.ReadDoubleLittleEndian(b),
        ('i', 1) => (sbyte)b[0],
        ('i', 2) => BinaryPrimitives.ReadInt16LittleEndian(b),
        ('i', 4) => BinaryPrimitives.ReadInt32LittleEndian(b),
        ('i', 8) => BinaryPrimitives.ReadInt64LittleEndian(b),
        ('u', 1) or ('b', 1) => b[0],
        ('u', 2) => BinaryPrimitives.ReadUInt16LittleEndian(b),
        ('u', 4) => BinaryPrimitives.ReadUInt32LittleEndian(b),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(b),
    };

    /// <summary>Features <c>x</c> (n, …) and integer labels <c>y</c> (n) as a dataset; the features flattened per sample.</summary>
    /// <exception cref="DataFormatException">The arrays do not belong together, or a label is not a class index.</exception>
    public static TensorDataset Dataset(string xPath, string yPath, IReadOnlyList<string>? classNames = null)
    {
        var (xShape, features) = ReadFeatures(xPath);
        var x = new NpyArray(xShape, [], IsInteger: false);
        var y = Read(yPath);
        if (x.Shape.Length < 2) throw new DataFormatException($"{xPath}: features must have a sample dimension and at least one more; shape ({string.Join(", ", x.Shape)}).");
        if (y.Shape.Length != 1) throw new DataFormatException($"{yPath}: labels must be one-dimensional; shape ({string.Join(", ", y.Shape)}).");
        if (x.Shape[0] != y.Shape[0]) throw new DataFormatException($"{xPath} holds {x.Shape[0]} samples but {yPath} {y.Shape[0]} labels.");
        if (x.Shape[0] == 0) throw new DataFormatException($"{xPath}: no samples.");
        if (x.Shape.Skip(1).Any(d => d == 0))
            throw new DataFormatException($"{xPath}: shape ({string.Join(", ", x.Shape)}) has zero features per sample; a model needs at least one input.");
        var labels = new int[y.Values.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            double v = y.Values[i];
            if (v < 0 || v != Math.Floor(v) || v >= CsvDataset.MaxClasses)
                throw new DataFormatException($"{yPath}: label {v} at index {i} is not a class index (0, 1, …).");
            labels[i] = (int)v;
        }
        var names = classNames ?? [.. Enumerable.Range(0, labels.Max() + 1).Select(i => i.ToString(CultureInfo.InvariantCulture))];
        if (classNames is null && names.Count > Math.Max(labels.Length, 1024))
            throw new DataFormatException($"{yPath}: label {names.Count - 1} among {labels.Length} samples: class indices must be dense.");
        var bad = Array.FindIndex(labels, l => l >= names.Count);
        if (bad >= 0) throw new DataFormatException($"{yPath}: label {labels[bad]} at index {bad} is outside [0, {names.Count}).");
        return new TensorDataset(features, labels, (int)(features.Length / x.Shape[0]), names);
    }

    /// <summary>
    /// A features file as floats: little-endian float32 data is mapped, not read (every process on a host shares the page
    /// cache's one copy); other dtypes are converted into an array.
    /// </summary>
    /// <exception cref="DataFormatException">Malformed, or an element is not a finite number.</exception>
    private static (long[] Shape, ReadOnlyMemory<float> Values) ReadFeatures(string path)
    {
        long[] shape;
        ReadOnlyMemory<float> values = default;
        using (var f = InputFile.OpenRead(path))
        {
            (shape, char kind, int size, long count) = ReadLayout(path, f);
            if (kind == 'f' && size == 4 && f.Position % 4 == 0 && count > 0 && BitConverter.IsLittleEndian)
                values = MappedFile.Map<float>(path, f.Position, (int)count);
        }
        if (values.IsEmpty)
        {
            var a = Read(path);
            var floats = new float[a.Values.Length];
            for (int i = 0; i < floats.Length; i++) floats[i] = (float)a.Values[i];
            values = floats;
        }
        if (!values.IsEmpty && !TensorPrimitives.IsFiniteAll(values.Span)) // the vectorized check first; the index only when it fails
        {
            int i = FirstNotFinite(values.Span);
            throw new DataFormatException($"{path}: element {i} is {values.Span[i].ToString(CultureInfo.InvariantCulture)}, not a finite number (in float32).");
        }
        return (shape, values);
    }

    private static int FirstNotFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}
