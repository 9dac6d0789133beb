namespace Nabla.Data;

/// <summary>How to read a table of samples: the CSV dialect and label column, the task, and what to do with columns.</summary>
public sealed record TableOptions
{
    /// <summary>The delimiter, the header, and the label column (for regression, the target columns: <c>price,rooms</c>).</summary>
    public CsvOptions Csv { get; init; } = new();

    /// <summary>Whether the label columns hold numeric targets (regression) rather than classes.</summary>
    public bool Regression { get; init; }

    /// <summary>Columns (names, or 0-based indices) to read as categories even though their cells are numbers (codes).</summary>
    public IReadOnlyList<string> Categorical { get; init; } = [];

    /// <summary>Columns (names, or 0-based indices) to leave out (identifiers, free text).</summary>
    public IReadOnlyList<string> Drop { get; init; } = [];

    /// <summary>Whether gaps (empty cells, <c>NA</c>, <c>NaN</c>, …) are allowed, to be filled by the preprocessing; else each is refused with its line and column.</summary>
    public bool Impute { get; init; } = true;

    /// <summary>The most distinct values a text column may have before it is refused as an identifier or free text (declared categorical columns may have up to 65,536).</summary>
    public int MaxCategories { get; init; } = 1000;
}

/// <summary>What a table read for a trained model must match: its input columns (kinds, vocabularies), and its classes or targets.</summary>
/// <param name="Columns">The model's input columns, in order.</param>
/// <param name="ClassNames">A classifier's classes (empty for regression).</param>
/// <param name="TargetNames">A regression model's targets (empty for classification).</param>
public sealed record TableSchema(IReadOnlyList<TableColumn> Columns, IReadOnlyList<string> ClassNames, IReadOnlyList<string> TargetNames)
{
    /// <summary>Whether the model predicts numbers.</summary>
    public bool Regression => TargetNames.Count > 0;
}
