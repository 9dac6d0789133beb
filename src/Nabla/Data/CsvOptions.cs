using System.Globalization;
using System.Text.Json.Nodes;

namespace Nabla.Data;

/// <summary>Whether a CSV's first line names its columns.</summary>
public enum CsvHeader
{
    /// <summary>A first line with a cell that is not a number (outside the label column) is a header.</summary>
    Auto,
    /// <summary>The first line is a header.</summary>
    Yes,
    /// <summary>Every line is data.</summary>
    No,
}

/// <summary>How to read a CSV table of labelled samples.</summary>
/// <param name="LabelColumn">
/// The label's column: a header name, or a 0-based index (negative counts from the end: -1 is the last); null for the
/// first column.
/// </param>
/// <param name="Header">Whether the first line names the columns.</param>
/// <param name="Delimiter">The separator between cells.</param>
public sealed record CsvOptions(string? LabelColumn = null, CsvHeader Header = CsvHeader.Auto, char Delimiter = ',')
{
    /// <summary>As JSON, for model files (so that eval and predict read tables as training did).</summary>
    public JsonObject ToJson() => new()
    {
        ["label_column"] = LabelColumn,
        ["header"] = Header.ToString().ToLowerInvariant(),
        ["delimiter"] = Delimiter.ToString(),
    };

    /// <summary>Parses <see cref="ToJson"/>'s output.</summary>
    /// <exception cref="FormatException">Malformed.</exception>
    public static CsvOptions FromJson(JsonNode? json)
    {
        try
        {
            var o = json!.AsObject();
            string delimiter = o["delimiter"]!.GetValue<string>();
            if (delimiter.Length != 1) throw new FormatException("a delimiter is one character");
            var header = o["header"]!.GetValue<string>() switch
            {
                "auto" => CsvHeader.Auto,
                "yes" => CsvHeader.Yes,
                "no" => CsvHeader.No,
                var other => throw new FormatException($"unknown header setting '{other}'"),
            };
            return new CsvOptions(o["label_column"]?.GetValue<string>(), header, delimiter[0]);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or ArgumentException)
        {
            throw new FormatException($"bad CSV options ({e.Message})", e);
        }
    }

    /// <summary>
    /// When a file read as one column holds another common delimiter in its <paramref name="onlyCell"/>, the error
    /// that says so (its <see cref="DataFormatException.Setting"/> is <see cref="DataFormatException.DelimiterSetting"/>);
    /// null when nothing points to one.
    /// </summary>
    internal DataFormatException? WrongDelimiter(string path, string onlyCell)
    {
        char other = new[] { ';', '\t', '|', ',' }.FirstOrDefault(d => d != Delimiter && onlyCell.Contains(d));
        return other == default ? null : new DataFormatException(
            $"{path}: one column only ('{(onlyCell.Length > 60 ? onlyCell[..60] + "…" : onlyCell)}'): are the cells separated by '{(other == '\t' ? "\\t" : other.ToString())}' rather than '{Delimiter}'? Give the delimiter.")
        { Setting = DataFormatException.DelimiterSetting };
    }

    /// <summary>The label column's index among <paramref name="columns"/> cells (<paramref name="names"/>: the header, if any; <paramref name="path"/> names the file in errors).</summary>
    /// <exception cref="DataFormatException">No such column.</exception>
    public int LabelIndex(string path, int columns, IReadOnlyList<string>? names)
    {
        if (LabelColumn is null) return 0;
        if (int.TryParse(LabelColumn, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i))
        {
            int at = i < 0 ? columns + i : i;
            if (at < 0 || at >= columns) throw new DataFormatException($"{path}: label column {i} is outside the {columns} columns.");
            return at;
        }
        if (names is null) throw new DataFormatException($"{path}: the label column '{LabelColumn}' is a name, but the file has no header line.");
        var found = names.Select((n, j) => (n, j)).Where(p => p.n == LabelColumn).Select(p => p.j).ToList();
        if (found.Count > 1)
            throw new DataFormatException($"{path}: the label column '{LabelColumn}' is ambiguous: the header names {found.Count} columns so ({string.Join(" and ", found.Select(j => $"column {j + 1}"))}). Rename one, or name the label column by its 0-based index ({found[0]}).");
        if (found.Count == 1) return found[0];
        if (names.Count == 1 && WrongDelimiter(path, names[0]) is { } wrong) throw wrong;
        throw new DataFormatException($"{path}: no column named '{LabelColumn}' (the header has {string.Join(", ", names.Take(12))}{(names.Count > 12 ? ", …" : "")}).");
    }
}
