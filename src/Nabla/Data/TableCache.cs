using System.Globalization;
using System.Text;

namespace Nabla.Data;

/// <summary>
/// Binary copies of parsed training tables, memory-mapped when read again: a later run skips parsing the CSV (two
/// passes over the text), and the processes of a data-parallel job on one host share the page cache's one copy of
/// the values instead of holding one each. A copy is named after the source's full path, length and modification
/// time and the reading options, so a changed file or other options parse afresh; it is written once, atomically
/// (a temporary file renamed), and a damaged copy is deleted and rebuilt. Writing is best effort: a read-only or full
/// cache folder costs only the speed-up. Written by hand: the layout is ours (values aligned for mapping as floats).
/// </summary>
public static class TableCache
{
    /// <summary>Files smaller than this are parsed every time: caching them saves nothing measurable.</summary>
    public const long MinBytes = 1 << 20;

    private static readonly byte[] Magic = "NABLATB1"u8.ToArray();
    private const int Align = 64;

    /// <summary>Reads the training table <paramref name="path"/> (<see cref="TableReader.Read(string, TableOptions)"/>), through a copy in <paramref name="folder"/> when it is large.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">How to read it.</param>
    /// <param name="folder">Where copies live; null parses without caching.</param>
    /// <param name="minBytes">Files below this size are parsed directly.</param>
    /// <exception cref="DataFormatException">The file is missing or not such a table.</exception>
    public static RawTable Read(string path, TableOptions options, string? folder, long minBytes = MinBytes)
    {
        var info = new FileInfo(path);
        if (folder is null || !info.Exists || info.Length < minBytes) return TableReader.Read(path, options);
        string copy = Path.Combine(folder, CopyName(info, options));
        if (File.Exists(copy))
        {
            try
            {
                return Map(copy, path);
            }
            catch (Exception e) when (e is IOException or DataFormatException or EndOfStreamException or ArgumentException) { }
            TryDelete(copy);
        }
        var table = TableReader.Read(path, options);
        TryWrite(copy, table);
        return table;
    }

    /// <summary>Every option that changes what is read, in one string (the copy's name hashes it).</summary>
    internal static string OptionsKey(TableOptions o) => string.Join('\u001f',
        o.Csv.LabelColumn ?? "\u0000", o.Csv.Header, ((int)o.Csv.Delimiter).ToString(CultureInfo.InvariantCulture), o.Regression,
        string.Join('\u001e', o.Categorical), string.Join('\u001e', o.Drop), o.Impute, o.MaxCategories.ToString(CultureInfo.InvariantCulture));

    private static string CopyName(FileInfo source, TableOptions options)
    {
        ulong h = 0xCBF29CE484222325UL; // FNV-1a: stable across processes, unlike string hashes
        foreach (char ch in source.FullName + "\n" + OptionsKey(options)) h = (h ^ ch) * 0x100000001B3UL;
        string stem = Path.GetFileNameWithoutExtension(source.Name);
        return string.Create(CultureInfo.InvariantCulture, $"{stem}-{h:x16}-{source.Length}-{source.LastWriteTimeUtc.Ticks}.table");
    }

    /// <summary>The copy's description read, its values mapped; <paramref name="source"/> names the table in errors.</summary>
    private static RawTable Map(string copy, string source)
    {
        using var f = InputFile.OpenRead(copy);
        using var r = new BinaryReader(f, Encoding.UTF8);
        if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new DataFormatException($"{copy}: not a table copy.");
        var columns = List(r, () => new TableColumn(r.ReadString(), (ColumnKind)r.ReadInt32()) { Categories = List(r, r.ReadString) });
        var classNames = List(r, r.ReadString);
        var targetNames = List(r, r.ReadString);
        string? labelName = r.ReadBoolean() ? r.ReadString() : null;
        bool hasHeader = r.ReadBoolean();
        var notes = List(r, r.ReadString);
        int rows = r.ReadInt32(), labels = r.ReadInt32(), targets = r.ReadInt32();
        long values = (long)rows * columns.Count, start = (f.Position + Align - 1) / Align * Align;
        if (rows < 0 || labels < 0 || targets < 0 || values > Array.MaxLength || f.Length != start + 4 * (values + labels + targets))
            throw new DataFormatException($"{copy}: its length does not match its description.");
        f.Position = start + 4 * values;
        var labelArray = new int[labels];
        for (int i = 0; i < labels; i++) labelArray[i] = r.ReadInt32();
        var targetArray = new float[targets];
        for (int i = 0; i < targets; i++) targetArray[i] = r.ReadSingle();
        return new RawTable
        {
            Source = source, Columns = columns, Values = MappedFile.Map<float>(copy, start, (int)values), Labels = labelArray,
            ClassNames = classNames, Targets = targetArray, TargetNames = targetNames, LabelName = labelName, HasHeader = hasHeader, Notes = notes,
        };
    }

    private static List<T> List<T>(BinaryReader r, Func<T> item)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > r.BaseStream.Length) throw new DataFormatException("a table copy's list length is corrupt.");
        var list = new List<T>(n);
        for (int i = 0; i < n; i++) list.Add(item());
        return list;
    }

    private static void TryWrite(string copy, RawTable t)
    {
        string temp = copy + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (var w = new BinaryWriter(f, Encoding.UTF8))
            {
                w.Write(Magic);
                Strings(w, t.Columns, c =>
                {
                    w.Write(c.Name);
                    w.Write((int)c.Kind);
                    Strings(w, c.Categories, w.Write);
                });
                Strings(w, t.ClassNames, w.Write);
                Strings(w, t.TargetNames, w.Write);
                w.Write(t.LabelName is not null);
                if (t.LabelName is not null) w.Write(t.LabelName);
                w.Write(t.HasHeader);
                Strings(w, t.Notes, w.Write);
                w.Write(t.Rows);
                w.Write(t.Labels.Length);
                w.Write(t.Targets.Length);
                w.Flush();
                f.Write(new byte[(Align - f.Position % Align) % Align]);
                f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Values.Span));
                f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Labels.AsSpan()));
                f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Targets.AsSpan()));
            }
            File.Move(temp, copy, overwrite: true); // atomic: a reader sees no copy or a whole one
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
        }
    }

    private static void Strings<T>(BinaryWriter w, IReadOnlyList<T> items, Action<T> write)
    {
        w.Write(items.Count);
        foreach (var item in items) write(item);
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
