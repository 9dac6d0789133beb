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

    /// <summary>Rows × <see cref="Columns"/>, row-major, raw.</summary>
    public required float[] Values { get; init; }

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

    /// <summary>The rows as a dataset (raw features; labels, or targets for regression); <paramref name="rows"/> picks some, in that order.</summary>
    /// <exception cref="InvalidOperationException">The table has no labels or targets.</exception>
    public IDataset ToDataset(int[]? rows = null)
    {
        if (!HasLabels) throw new InvalidOperationException($"{Source}: the table has no labels to train or test on.");
        int w = Columns.Count;
        rows ??= [.. Enumerable.Range(0, Rows)];
        var x = new float[rows.Length * w];
        for (int i = 0; i < rows.Length; i++) Values.AsSpan(rows[i] * w, w).CopyTo(x.AsSpan(i * w, w));
        if (TargetNames.Count > 0)
        {
            int t = TargetNames.Count;
            var y = new float[rows.Length * t];
            for (int i = 0; i < rows.Length; i++) Targets.AsSpan(rows[i] * t, t).CopyTo(y.AsSpan(i * t, t));
            return new RegressionDataset(x, y, w, TargetNames);
        }
        return new TensorDataset(x, [.. rows.Select(r => Labels[r])], w, ClassNames);
    }
}
