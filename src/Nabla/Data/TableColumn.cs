using System.Globalization;

namespace Nabla.Data;

/// <summary>How a table's input column is read.</summary>
public enum ColumnKind
{
    /// <summary>Numbers: imputed, then centred and scaled.</summary>
    Numeric,
    /// <summary>Categories (text, or numeric codes declared categorical): one-hot encoded over the training vocabulary.</summary>
    Categorical,
}

/// <summary>
/// One input column of a table and what is done to it before the model sees it (scikit-learn's ColumnTransformer of
/// a SimpleImputer with a StandardScaler or a OneHotEncoder, one column at a time).
/// </summary>
/// <remarks>
/// A table row's <em>raw</em> form, what a model with a <see cref="TablePreprocessor"/> takes: one float per column, the
/// value for a numeric column and the category's index in <see cref="Categories"/> for a categorical one; NaN for a gap
/// (an empty cell, <c>NA</c>, <c>NaN</c>, …), and −1 for a category the training file did not have (it becomes all
/// zeros). <see cref="TablePreprocessor.Encode"/> makes raw rows from text cells.
/// </remarks>
/// <param name="Name">The column's name (the header's, or <c>x0</c>, <c>x1</c>, … without one).</param>
/// <param name="Kind">Numeric or categorical.</param>
public sealed record TableColumn(string Name, ColumnKind Kind)
{
    /// <summary>Categorical: the vocabulary of the training file, in ordinal order (numeric codes in numeric order).</summary>
    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>
    /// What a gap becomes: the training mean for a numeric column, the most frequent category's index for a categorical
    /// one. NaN when gaps are refused.
    /// </summary>
    public float Fill { get; init; } = float.NaN;

    /// <summary>Numeric: subtracted from the (imputed) value.</summary>
    public float Mean { get; init; }

    /// <summary>Numeric: multiplies the centred value (1 / the standard deviation when standardized).</summary>
    public float Scale { get; init; } = 1f;

    /// <summary>Features this column gives the model: 1 for a number, one per category.</summary>
    public int Width => Kind == ColumnKind.Numeric ? 1 : Categories.Count;

    /// <summary>Whether gaps in this column are filled (else refused).</summary>
    public bool Imputes => !float.IsNaN(Fill);

    /// <summary>Each category's index, for looking cells up (a new dictionary: keep it while reading a file).</summary>
    public Dictionary<string, int> CategoryIndex() =>
        Categories.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);

    /// <summary>
    /// A category's canonical text: trimmed, and a number written the shortest way that reads back to it ("4.0" and
    /// "4" are one category), so that numeric codes declared categorical match however they are written.
    /// </summary>
    public static string Canonical(string text)
    {
        string t = text.Trim();
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v.ToString("R", CultureInfo.InvariantCulture) : t;
    }

    /// <summary>What happens to the column, for <c>summary</c>: "numeric, gaps → 3.2, standardized (mean 3.2, std 1.1)".</summary>
    public string Describe()
    {
        string gaps = Imputes ? Kind == ColumnKind.Numeric ? $"gaps → mean {F(Fill)}" : $"gaps → '{Categories[(int)Fill]}'" : "gaps refused";
        if (Kind == ColumnKind.Categorical)
            return $"categorical, one-hot over {Categories.Count} ({string.Join(", ", Categories.Take(6))}{(Categories.Count > 6 ? ", …" : "")}); unseen → all zeros; {gaps}";
        string scaling = Scale == 1f && Mean == 0f ? "as is" : Mean == 0f ? $"× {F(Scale)}" : $"standardized (mean {F(Mean)}, std {F(1 / Scale)})";
        return $"numeric, {scaling}; {gaps}";
    }

    private static string F(float v) => v.ToString("G5", CultureInfo.InvariantCulture);
}
