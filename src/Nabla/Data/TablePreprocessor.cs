using System.Globalization;
using System.Text.Json.Nodes;

namespace Nabla.Data;

/// <summary>
/// What turns a table's raw rows into a model's features, fitted on the training rows only: per column, gaps filled
/// (the mean, or the most frequent category), numbers centred and scaled, categories one-hot encoded. Columns keep
/// their order; a categorical column of K categories becomes K features. It is the state of the
/// <c>NN.ColumnTransformer</c> layer that a table model starts with, so the model file, <c>Predict</c>,
/// <c>eval</c>, <c>predict</c> and the ONNX export all apply the same preprocessing.
/// </summary>
public sealed class TablePreprocessor
{
    /// <summary>The widest encoded row (a layer's widest input).</summary>
    public const int MaxFeatures = 1 << 24;

    private readonly float[] _fill, _mean, _scale;
    private readonly int[] _categories; // 0 for a numeric column

    /// <summary>The input columns, in raw order, with their statistics.</summary>
    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>Features per raw row (one per column).</summary>
    public int InputWidth => Columns.Count;

    /// <summary>Features per encoded row (what the first Linear layer takes).</summary>
    public int OutputWidth { get; }

    /// <summary>Wraps fitted columns.</summary>
    /// <exception cref="ArgumentException">No columns, a categorical column without categories, or a non-finite statistic.</exception>
    public TablePreprocessor(IReadOnlyList<TableColumn> columns)
    {
        if (columns.Count == 0) throw new ArgumentException("A table needs at least one input column.");
        foreach (var c in columns)
        {
            if (c.Kind == ColumnKind.Categorical && c.Categories.Count == 0)
                throw new ArgumentException($"Column '{c.Name}' is categorical but has no categories.");
            if (!float.IsFinite(c.Mean) || !float.IsFinite(c.Scale) || float.IsInfinity(c.Fill))
                throw new ArgumentException($"Column '{c.Name}' has a statistic that is not finite.");
            if (c.Kind == ColumnKind.Categorical && c.Imputes && (c.Fill < 0 || c.Fill >= c.Categories.Count || c.Fill != MathF.Floor(c.Fill)))
                throw new ArgumentException($"Column '{c.Name}' fills gaps with category {c.Fill}, which it does not have.");
        }
        Columns = columns;
        long width = columns.Sum(c => (long)c.Width);
        if (width > MaxFeatures) throw new ArgumentException($"The encoded row has {width:N0} features; at most {MaxFeatures:N0}.");
        OutputWidth = (int)width;
        // The columns' numbers as plain arrays: Apply runs in every training step, on every cell of the batch.
        _fill = [.. columns.Select(c => c.Fill)];
        _mean = [.. columns.Select(c => c.Mean)];
        _scale = [.. columns.Select(c => c.Scale)];
        _categories = [.. columns.Select(c => c.Kind == ColumnKind.Numeric ? 0 : c.Categories.Count)];
    }

    /// <summary>
    /// Fits the statistics on raw training rows (<paramref name="raw"/>: rows × columns, as <see cref="TableColumn"/>
    /// describes): for each numeric column the mean and population standard deviation of its values (scikit-learn's
    /// StandardScaler; a constant column keeps scale 1), for each categorical one its most frequent category.
    /// </summary>
    /// <param name="columns">The columns as read (kinds and vocabularies).</param>
    /// <param name="raw">The training rows.</param>
    /// <param name="scaling">How numbers are scaled: none, divided by 255, or standardized.</param>
    /// <param name="impute">Whether gaps are filled (else they are refused wherever they appear).</param>
    public static TablePreprocessor Fit(IReadOnlyList<TableColumn> columns, ReadOnlySpan<float> raw, FeatureScaling scaling, bool impute) =>
        Fit(columns, raw, scaling, impute, null);

    /// <summary>
    /// <see cref="Fit(IReadOnlyList{TableColumn}, ReadOnlySpan{float}, FeatureScaling, bool)"/> on the rows
    /// <paramref name="rows"/> of <paramref name="raw"/> (all when null), in that order: the same bits as fitting a
    /// copy of those rows, without the copy (a held-out split of a mapped table).
    /// </summary>
    public static TablePreprocessor Fit(IReadOnlyList<TableColumn> columns, ReadOnlySpan<float> raw, FeatureScaling scaling, bool impute, int[]? rows)
    {
        int width = columns.Count, count = rows?.Length ?? raw.Length / Math.Max(width, 1);
        foreach (int r in rows ?? []) if ((uint)r >= (uint)(raw.Length / Math.Max(width, 1))) throw new ArgumentOutOfRangeException(nameof(rows), $"Row {r} is outside the table.");
        var fitted = new TableColumn[width];
        for (int j = 0; j < width; j++)
        {
            var c = columns[j];
            if (c.Kind == ColumnKind.Categorical)
            {
                var counts = new int[c.Categories.Count];
                for (int i = 0; i < count; i++)
                    if (raw[(rows?[i] ?? i) * width + j] is float code && code >= 0 && code < counts.Length) counts[(int)code]++;
                int mode = Array.IndexOf(counts, counts.Max()); // ties: the first in ordinal order
                fitted[j] = c with { Fill = impute ? mode : float.NaN, Mean = 0f, Scale = 1f };
                continue;
            }
            // In double, as FeatureScaler did (the same bits for a table without gaps).
            double sum = 0;
            int n = 0;
            for (int i = 0; i < count; i++)
                if (raw[(rows?[i] ?? i) * width + j] is var v && !float.IsNaN(v)) { sum += v; n++; }
            double mean = sum / Math.Max(n, 1), sq = 0;
            for (int i = 0; i < count; i++)
                if (raw[(rows?[i] ?? i) * width + j] is var v && !float.IsNaN(v)) { double d = v - mean; sq += d * d; }
            double sd = Math.Sqrt(sq / Math.Max(n, 1));
            var (m, s) = scaling switch
            {
                FeatureScaling.Standardize => ((float)mean, sd > 0 ? (float)(1 / sd) : 1f),
                FeatureScaling.Divide255 => (0f, 1f / 255f),
                _ => (0f, 1f),
            };
            fitted[j] = c with { Fill = impute ? (float)mean : float.NaN, Mean = m, Scale = s };
        }
        return new TablePreprocessor(fitted);
    }

    /// <summary>
    /// Encodes raw rows into features: <paramref name="raw"/> (rows × <see cref="InputWidth"/>) into
    /// <paramref name="features"/> (rows × <see cref="OutputWidth"/>). A gap in a column that does not impute stays NaN
    /// (numeric) or all zeros (categorical); a category index outside the vocabulary gives all zeros. Allocates nothing.
    /// </summary>
    public void Apply(ReadOnlySpan<float> raw, Span<float> features, int rows)
    {
        int inWidth = InputWidth, outWidth = OutputWidth;
        if (raw.Length < rows * inWidth || features.Length < rows * outWidth)
            throw new ArgumentException($"{rows} rows need {rows * inWidth} raw values and room for {rows * outWidth} features; got {raw.Length} and {features.Length}.");
        for (int r = 0; r < rows; r++)
        {
            var x = raw.Slice(r * inWidth, inWidth);
            var y = features.Slice(r * outWidth, outWidth);
            int at = 0;
            for (int j = 0; j < inWidth; j++)
            {
                float v = x[j];
                if (float.IsNaN(v)) v = _fill[j];
                if (_categories[j] == 0)
                {
                    y[at++] = (v - _mean[j]) * _scale[j]; // x' = (x − mean)·scale, as FeatureScaler computed it
                    continue;
                }
                var oneHot = y.Slice(at, _categories[j]);
                oneHot.Clear();
                if (v >= 0 && v < oneHot.Length && v == MathF.Floor(v)) oneHot[(int)v] = 1f;
                at += oneHot.Length;
            }
        }
    }

    /// <summary>
    /// The raw row of text <paramref name="cells"/> (one per column, in <see cref="Columns"/> order): numbers parsed,
    /// categories looked up (−1 when unseen), gaps (empty, <c>NA</c>, <c>NaN</c>, …) as NaN.
    /// </summary>
    /// <exception cref="FormatException">A numeric column's cell is not a number; the message names the column.</exception>
    public float[] Encode(IReadOnlyList<string> cells)
    {
        if (cells.Count != InputWidth) throw new ArgumentException($"{cells.Count} cells for a table of {InputWidth} columns.");
        _indices ??= [.. Columns.Select(c => c.Kind == ColumnKind.Categorical ? c.CategoryIndex() : null)];
        var row = new float[InputWidth];
        for (int j = 0; j < row.Length; j++)
        {
            string cell = cells[j];
            if (TableReader.IsMissing(cell)) row[j] = float.NaN;
            else if (Columns[j].Kind == ColumnKind.Categorical) row[j] = _indices[j]!.TryGetValue(TableColumn.Canonical(cell), out int code) ? code : -1;
            else if (float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v)) row[j] = v;
            else throw new FormatException($"column '{Columns[j].Name}': '{cell}' is not a number");
        }
        return row;
    }

    private Dictionary<string, int>?[]? _indices;

    /// <summary>As JSON, for model files.</summary>
    public JsonObject ToJson() => new()
    {
        ["columns"] = new JsonArray([.. Columns.Select(c =>
        {
            var o = new JsonObject { ["name"] = c.Name, ["kind"] = c.Kind == ColumnKind.Numeric ? "numeric" : "categorical" };
            if (c.Imputes) o["fill"] = c.Fill;
            if (c.Kind == ColumnKind.Numeric) (o["mean"], o["scale"]) = (c.Mean, c.Scale);
            else o["categories"] = new JsonArray([.. c.Categories.Select(k => (JsonNode)JsonValue.Create(k))]);
            return (JsonNode)o;
        })]),
    };

    /// <summary>Parses <see cref="ToJson"/>'s output, checking every field.</summary>
    /// <exception cref="FormatException">Malformed.</exception>
    public static TablePreprocessor FromJson(JsonNode? json)
    {
        try
        {
            var columns = new List<TableColumn>();
            foreach (var node in json!["columns"]!.AsArray())
            {
                var o = node!.AsObject();
                string name = o["name"]!.GetValue<string>();
                var kind = o["kind"]!.GetValue<string>() switch
                {
                    "numeric" => ColumnKind.Numeric,
                    "categorical" => ColumnKind.Categorical,
                    var k => throw new FormatException($"unknown column kind '{k}'"),
                };
                float fill = o["fill"]?.GetValue<float>() ?? float.NaN;
                var column = new TableColumn(name, kind) { Fill = fill };
                if (kind == ColumnKind.Numeric) column = column with { Mean = o["mean"]!.GetValue<float>(), Scale = o["scale"]!.GetValue<float>() };
                else column = column with { Categories = [.. o["categories"]!.AsArray().Select(k => k!.GetValue<string>())] };
                columns.Add(column);
            }
            return new TablePreprocessor(columns);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or ArgumentException or System.Text.Json.JsonException)
        {
            throw new FormatException($"bad table preprocessing ({e.Message})", e);
        }
    }

    /// <summary>E.g. <c>8 columns → 12 features (2 categorical)</c>.</summary>
    public override string ToString()
    {
        int categorical = Columns.Count(c => c.Kind == ColumnKind.Categorical);
        return string.Create(CultureInfo.InvariantCulture, $"{InputWidth} columns → {OutputWidth} features{(categorical > 0 ? $" ({categorical} categorical)" : "")}");
    }
}
