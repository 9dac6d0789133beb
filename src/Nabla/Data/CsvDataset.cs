using System.Globalization;

namespace Nabla.Data;

/// <summary>A CSV table read as samples: the dataset (raw feature values), and the column names when it had a header.</summary>
/// <param name="Data">The samples; features as written in the file, unscaled.</param>
/// <param name="FeatureNames">The feature columns' names (from the header, else <c>x0</c>, <c>x1</c>, …).</param>
/// <param name="LabelName">The label column's name, when the file has a header.</param>
public sealed record CsvTable(TensorDataset Data, IReadOnlyList<string> FeatureNames, string? LabelName);

/// <summary>
/// Loads a CSV of labelled samples, one per line: a label column (the first by default, or any column by name or
/// index) and feature columns. Labels are class indices (0, 1, …) or strings (each distinct string a class, in
/// sorted order). A header line is detected (or declared). Values are read as written: scaling is the caller's
/// choice (<see cref="FeatureScaler"/>), never implied.
/// </summary>
public static class CsvDataset
{
    /// <summary>The largest class count a CSV may have.</summary>
    public const int MaxClasses = 65_536;

    /// <summary>Reads <paramref name="path"/> as <paramref name="options"/> say; <paramref name="classNames"/> fixes the classes (a test file read with the training file's).</summary>
    /// <exception cref="DataFormatException">Missing file, ragged rows, a value that is not a number, a bad or unknown label.</exception>
    public static CsvTable Read(string path, CsvOptions options, IReadOnlyList<string>? classNames = null)
    {
        if (!File.Exists(path)) throw new DataFormatException($"{path}: file not found.");
        var features = new List<float>();
        var rawLabels = new List<string>();
        string[]? header = null;
        int width = -1, labelAt = -1;
        foreach (var (lineNo, cells) in Rows(path, options.Delimiter))
        {
            if (width < 0)
            {
                width = cells.Length;
                if (width < 2) throw new DataFormatException($"{path}: line {lineNo} has {width} column(s); a label and at least one feature are needed. Is the delimiter '{options.Delimiter}'?");
                bool isHeader = options.Header == CsvHeader.Yes
                    || (options.Header == CsvHeader.Auto && LooksLikeHeader(cells, options, path));
                if (isHeader)
                {
                    header = cells;
                    labelAt = options.LabelIndex(path, width, header);
                    continue;
                }
                labelAt = options.LabelIndex(path, width, null);
            }
            rawLabels.Add(cells[labelAt]);
            for (int j = 0; j < cells.Length; j++)
                if (j != labelAt) features.Add(Number(path, lineNo, j, cells[j]));
        }
        if (rawLabels.Count == 0) throw new DataFormatException($"{path}: no data rows.");
        var (labels, names) = Labels(path, rawLabels, classNames);
        var featureNames = Enumerable.Range(0, width).Where(j => j != labelAt)
            .Select(j => header?[j] ?? $"x{j - (j > labelAt ? 1 : 0)}").ToArray();
        return new CsvTable(new TensorDataset([.. features], labels, width - 1, names), featureNames, header?[labelAt]);
    }

    /// <summary>
    /// Reads <paramref name="path"/> for regression: the target columns are <paramref name="options"/>' label column,
    /// which may list several (<c>price,rooms</c> or <c>-1,-2</c>); the first column when none is given.
    /// </summary>
    /// <returns>The samples, the feature names and the target names.</returns>
    /// <exception cref="DataFormatException">Missing file, ragged rows, a value that is not a number, an unknown column.</exception>
    public static (RegressionDataset Data, IReadOnlyList<string> FeatureNames, IReadOnlyList<string> TargetNames) ReadRegression(string path, CsvOptions options)
    {
        if (!File.Exists(path)) throw new DataFormatException($"{path}: file not found.");
        var specs = (options.LabelColumn ?? "0").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var features = new List<float>();
        var targets = new List<float>();
        string[]? names = null;
        int[] targetAt = [];
        bool[] isTarget = [];
        int width = -1;
        foreach (var (lineNo, cells) in Rows(path, options.Delimiter))
        {
            if (width < 0)
            {
                width = cells.Length;
                bool numeric = cells.All(c => float.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                if (options.Header == CsvHeader.Yes || (options.Header == CsvHeader.Auto && !numeric)) names = cells;
                targetAt = [.. specs.Select(spec => (options with { LabelColumn = spec }).LabelIndex(path, width, names))];
                if (targetAt.Distinct().Count() != targetAt.Length) throw new DataFormatException($"{path}: a target column is named twice.");
                if (targetAt.Length >= width) throw new DataFormatException($"{path}: every column is a target; no features are left.");
                isTarget = new bool[width];
                foreach (int j in targetAt) isTarget[j] = true;
                if (names is not null) continue;
            }
            foreach (int j in targetAt) targets.Add(Number(path, lineNo, j, cells[j]));
            for (int j = 0; j < width; j++)
                if (!isTarget[j]) features.Add(Number(path, lineNo, j, cells[j]));
        }
        if (targets.Count == 0) throw new DataFormatException($"{path}: no data rows.");
        var featureNames = Enumerable.Range(0, width).Where(j => !isTarget[j]).Select(j => names?[j] ?? $"x{j}").ToArray();
        var targetNames = targetAt.Select((j, k) => names?[j] ?? $"y{k}").ToArray();
        return (new RegressionDataset([.. features], [.. targets], featureNames.Length, targetNames), featureNames, targetNames);
    }

    /// <summary>
    /// The non-blank lines of <paramref name="path"/>, split into cells, with their 1-based line numbers; every line
    /// must have as many cells as the first. Streamed: the memory held by a reader is the parsed numbers, never the
    /// text, and one line at most <see cref="TextLines.MaxLineChars"/> characters.
    /// </summary>
    private static IEnumerable<(int Line, string[] Cells)> Rows(string path, char delimiter)
    {
        using var file = InputFile.OpenRead(path, bufferSize: 1 << 16);
        foreach (var row in TableReader.Rows(file, path, delimiter)) yield return row;
    }

    private static float Number(string path, int line, int column, string cell) =>
        float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) ? v
            : throw new DataFormatException($"{path}: line {line}, column {column + 1}: '{cell}' is not a number.");

    /// <summary>The older form: the first column is the label, values divided by <paramref name="divideBy"/>.</summary>
    /// <exception cref="DataFormatException">As <see cref="Read"/>.</exception>
    public static TensorDataset Load(string path, float divideBy = 255f, IReadOnlyList<string>? classNames = null)
    {
        var d = Read(path, new CsvOptions(), classNames).Data;
        if (divideBy == 1f) return d;
        var x = new float[d.Count * d.Features];
        var y = new int[d.Count];
        d.Gather([.. Enumerable.Range(0, d.Count)], x, y);
        for (int i = 0; i < x.Length; i++) x[i] /= divideBy;
        return new TensorDataset(x, y, d.Features, d.ClassNames);
    }

    /// <summary>A first line whose feature cells are not all numbers names the columns.</summary>
    private static bool LooksLikeHeader(string[] cells, CsvOptions options, string path)
    {
        bool named = options.LabelColumn is { } c && !int.TryParse(c, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
        if (named) return true;
        int labelAt = options.LabelIndex(path, cells.Length, null);
        return cells.Where((_, j) => j != labelAt).Any(c => !float.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
    }

    /// <summary>Class indices of raw label cells: given classes, integer indices, or sorted distinct strings.</summary>
    internal static (int[] Labels, IReadOnlyList<string> Names) Labels(string path, List<string> raw, IReadOnlyList<string>? classNames)
    {
        if (classNames is not null)
        {
            var index = classNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
            bool numeric = classNames.Select((n, i) => n == i.ToString(CultureInfo.InvariantCulture)).All(b => b);
            var mapped = new int[raw.Count];
            for (int i = 0; i < raw.Count; i++)
            {
                if (index.TryGetValue(raw[i], out int c)) mapped[i] = c;
                else if (numeric && int.TryParse(raw[i], NumberStyles.None, CultureInfo.InvariantCulture, out c) && c < classNames.Count) mapped[i] = c;
                else if (int.TryParse(raw[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out c))
                    throw new DataFormatException($"{path}: label {c} at row {i} is outside [0, {classNames.Count}): not one of the classes ({string.Join(", ", classNames.Take(10))}{(classNames.Count > 10 ? ", …" : "")}).");
                else throw new DataFormatException($"{path}: label '{raw[i]}' at row {i} is not one of the {classNames.Count} classes ({string.Join(", ", classNames.Take(10))}{(classNames.Count > 10 ? ", …" : "")}).");
            }
            return (mapped, classNames);
        }
        if (raw.FirstOrDefault(l => int.TryParse(l, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v < 0) is { } negative)
            throw new DataFormatException($"{path}: label '{negative}' is not a non-negative integer class index.");
        if (raw.All(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            var ints = new int[raw.Count];
            for (int i = 0; i < raw.Count; i++)
            {
                if (!int.TryParse(raw[i], NumberStyles.None, CultureInfo.InvariantCulture, out ints[i]) || ints[i] >= MaxClasses)
                    throw new DataFormatException($"{path}: row {i}: label {raw[i]} is not a class index below {MaxClasses:N0}; is the label in the first column?");
            }
            int classes = ints.Max() + 1;
            // A class index far beyond the rows cannot be a class the data shows: bound the class count first.
            if (classes > Math.Max(raw.Count, 1024))
                throw new DataFormatException($"{path}: label {classes - 1} among {raw.Count} rows: class indices must be dense (0, 1, …); is the label in the first column?");
            return (ints, [.. Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture))]);
        }
        if (raw.Any(l => l.Length > 0 && (char.IsAsciiDigit(l[0]) || l[0] == '-') && double.TryParse(l, CultureInfo.InvariantCulture, out _)
                && !int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out _) && raw.All(x => double.TryParse(x, CultureInfo.InvariantCulture, out _))))
            throw new DataFormatException($"{path}: the labels are numbers but not class indices (e.g. '{raw.First(l => !int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out _))}'): is the label column right?");
        var names = raw.Distinct().Order(StringComparer.Ordinal).ToArray();
        if (names.Length > MaxClasses) throw new DataFormatException($"{path}: {names.Length:N0} distinct labels; at most {MaxClasses:N0} classes.");
        var map = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        return ([.. raw.Select(l => map[l])], names);
    }
}
