using System.Globalization;

namespace Nabla.Data;

/// <summary>
/// Loads a CSV of labelled samples, one per line: the label (a class index), then the feature values — the
/// layout of Kaggle's Fashion-MNIST CSVs (<c>label,pixel1,…,pixel784</c>). A first line that is not numeric
/// is taken as a header. Values are divided by <c>divideBy</c> (255 by default, for pixel bytes, as ToTensor does).
/// </summary>
public static class CsvDataset
{
    /// <summary>The largest class count a CSV may have.</summary>
    public const int MaxClasses = 65_536;

    /// <summary>Reads <paramref name="path"/> into a <see cref="TensorDataset"/>.</summary>
    /// <exception cref="DataFormatException">Missing file, ragged rows, a value that is not a number, a bad label.</exception>
    public static TensorDataset Load(string path, float divideBy = 255f, IReadOnlyList<string>? classNames = null)
    {
        if (!File.Exists(path)) throw new DataFormatException($"{path}: file not found.");
        var features = new List<float>();
        var labels = new List<int>();
        int width = -1, lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var cells = line.Split(',');
            if (lineNo == 1 && !float.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _)) continue; // header
            if (width < 0)
            {
                width = cells.Length;
                if (width < 2) throw new DataFormatException($"{path}: line {lineNo} has no feature values after the label.");
            }
            else if (cells.Length != width)
                throw new DataFormatException($"{path}: line {lineNo} has {cells.Length} values; earlier lines have {width}.");
            if (!int.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int label) || label < 0)
                throw new DataFormatException($"{path}: line {lineNo}: label '{cells[0]}' is not a non-negative integer class index.");
            if (label >= MaxClasses)
                throw new DataFormatException($"{path}: line {lineNo}: label {label} is not a class index below {MaxClasses:N0}; is the label in the first column?");
            labels.Add(label);
            for (int j = 1; j < cells.Length; j++)
            {
                if (!float.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
                    throw new DataFormatException($"{path}: line {lineNo}, column {j + 1}: '{cells[j]}' is not a number.");
                features.Add(v / divideBy);
            }
        }
        if (labels.Count == 0) throw new DataFormatException($"{path}: no data rows.");
        int classes = labels.Max() + 1;
        // A class index far beyond the rows cannot be a class the data shows: bound the class count by what the data
        // can hold before building names for it.
        if (classNames is null && classes > Math.Max(labels.Count, 1024))
            throw new DataFormatException($"{path}: label {classes - 1} among {labels.Count} rows: class indices must be dense (0, 1, …); is the label in the first column?");
        var names = classNames ?? Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        for (int i = 0; i < labels.Count; i++)
            if (labels[i] >= names.Count)
                throw new DataFormatException($"{path}: label {labels[i]} at row {i} is outside [0, {names.Count}).");
        return new TensorDataset([.. features], [.. labels], width - 1, names);
    }
}
