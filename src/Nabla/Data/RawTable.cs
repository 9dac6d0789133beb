namespace Nabla.Data;

/// <summary>
/// A table as read, before any preprocessing: each row's input columns in raw form (numbers, category indices, NaN for
/// gaps: see <see cref="TableColumn"/>) and its label or targets. A model whose first layer is a
/// <c>ColumnTransformer</c> takes these rows as they are.
/// </summary>
public sealed class RawTable
{
    /// <summary>Where it was read from (errors name it).</summary>
    public required string Source { get; init; }

    /// <summary>The input columns: names, kinds and (training file) vocabularies.</summary>
    public required IReadOnlyList<TableColumn> Columns { get; init; }

    /// <summary>Rows × <see cref="Columns"/>, row-major, raw (an array, or a mapped <see cref="TableCache"/> copy).</summary>
    public required ReadOnlyMemory<float> Values { get; init; }

    /// <summary>Rows read.</summary>
    public int Rows => Values.Length / Math.Max(Columns.Count, 1);

    /// <summary>Classification: each row's class index (empty without labels, and for regression).</summary>
    public int[] Labels { get; init; } = [];

    /// <summary>Classification: the classes.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Regression: rows × <see cref="TargetNames"/>, row-major (empty without targets).</summary>
    public float[] Targets { get; init; } = [];

    /// <summary>Regression: the target columns' names.</summary>
    public IReadOnlyList<string> TargetNames { get; init; } = [];

    /// <summary>The label column's header name (several joined by ',' for regression), when the file has a header.</summary>
    public string? LabelName { get; init; }

    /// <summary>Whether the file's first line named the columns.</summary>
    public bool HasHeader { get; init; }

    /// <summary>Cells whose category the model's vocabulary does not have (each encoded as all zeros).</summary>
    public int Unseen { get; init; }

    /// <summary>The first such cell, e.g. <c>line 7, column 'colour': 'teal'</c>.</summary>
    public string? FirstUnseen { get; init; }

    /// <summary>What a reader should know of the table (a text column that looks like an identifier), one sentence each.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Whether rows carry labels or targets.</summary>
    public bool HasLabels => Labels.Length > 0 || Targets.Length > 0;

    /// <summary>The rows <paramref name="rows"/>, in that order, as a table of their own (a held-out split's part).</summary>
    public RawTable Select(int[] rows)
    {
        int w = Columns.Count, k = TargetNames.Count;
        var values = new float[rows.Length * w];
        var all = Values.Span;
        var targets = new float[Targets.Length == 0 ? 0 : rows.Length * k];
        for (int i = 0; i < rows.Length; i++)
        {
            all.Slice(rows[i] * w, w).CopyTo(values.AsSpan(i * w, w));
            if (targets.Length > 0) Targets.AsSpan(rows[i] * k, k).CopyTo(targets.AsSpan(i * k, k));
        }
        return new RawTable
        {
            Source = Source, Columns = Columns, Values = values, Targets = targets, TargetNames = TargetNames, ClassNames = ClassNames,
            Labels = Labels.Length == 0 ? [] : [.. rows.Select(r => Labels[r])], LabelName = LabelName, HasHeader = HasHeader, Notes = Notes,
        };
    }

    /// <summary>The rows as a dataset (raw features; labels, or targets for regression).</summary>
    /// <exception cref="InvalidOperationException">The table has no labels or targets.</exception>
    public IDataset ToDataset()
    {
        if (!HasLabels) throw new InvalidOperationException($"{Source}: the table has no labels to train or test on.");
        return TargetNames.Count > 0 ? new RegressionDataset(Values, Targets, Columns.Count, TargetNames) : new TensorDataset(Values, Labels, Columns.Count, ClassNames);
    }
}
