using System.CommandLine;
using System.Globalization;
using Nabla.Data;

namespace Nabla.Cli;

/// <summary>
/// The flags of <c>train</c> that say how a table is read and prepared: its CSV dialect and label column, the input
/// scaling, the held-out test fraction of a single file, columns made categorical or dropped, and gaps.
/// </summary>
internal sealed class TableFlags
{
    private readonly Option<string?> _label = new("--label-column") { Description = "CSV: the label's column (regression: the targets', comma-separated), by header name or 0-based index (-1: the last); default: the first" };
    private readonly Option<string> _header = new Option<string>("--header") { Description = "CSV: whether the first line names the columns: auto, yes or no", DefaultValueFactory = _ => "auto" }
        .AcceptOnlyFromAmong("auto", "yes", "no");
    private readonly Option<string> _delimiter = Delimiter();
    private readonly Option<string?> _scale = new Option<string?>("--scale") { Description = "Input scaling: standardize (the default for tables: statistics from the training rows), none, or 255 (the default for images)" }
        .AcceptOnlyFromAmong("none", "255", "standardize");
    private readonly Option<float?> _testSplit = CommonOptions.Range("--test-split", "One CSV file as --data: the fraction of its rows held out as the test set (default 0.2; stratified by class; seeded by --seed)", 0, 0.9f, minExclusive: true);
    private readonly Option<string?> _categorical = new("--categorical") { Description = "CSV: columns (names or 0-based indices, comma-separated) to one-hot encode although they hold numbers (codes); text columns are categorical anyway" };
    private readonly Option<string?> _drop = new("--drop-columns") { Description = "CSV: columns (names or 0-based indices, comma-separated) to leave out, e.g. identifiers" };
    private readonly Option<string> _impute = new Option<string>("--impute") { Description = "CSV gaps (empty, NA, NaN, …): mean (numbers get the training mean, categories the most frequent), or none (refused, naming row and column)", DefaultValueFactory = _ => "mean" }
        .AcceptOnlyFromAmong("mean", "none");

    /// <summary>Every option, to add to a command.</summary>
    public IEnumerable<Option> All => [_label, _header, _delimiter, _scale, _testSplit, _categorical, _drop, _impute];

    private static Option<string> Delimiter()
    {
        var delimiter = new Option<string>("--delimiter") { Description = "CSV: the cell separator (one character; \\t for tab)", DefaultValueFactory = _ => "," };
        delimiter.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && r.Tokens[^1].Value is var d && d != "\\t" && d.Length != 1) r.AddError($"--delimiter must be one character (or \\t); got '{d}'.");
        });
        return delimiter;
    }

    /// <summary>The CSV dialect given.</summary>
    public CsvOptions Csv(ParseResult r) => new(r.GetValue(_label), r.GetValue(_header) switch { "yes" => CsvHeader.Yes, "no" => CsvHeader.No, _ => CsvHeader.Auto },
        r.GetValue(_delimiter) is "\\t" ? '\t' : r.GetValue(_delimiter)![0]);

    /// <summary>The scaling asked for, or null for the dataset's default.</summary>
    public FeatureScaling? Scaling(ParseResult r) => r.GetValue(_scale) is { } s ? FeatureScaler.Parse(s) : null;

    /// <summary>Whether any table-only flag was given (refused for image datasets).</summary>
    public string? TableOnlyGiven(ParseResult r) =>
        new Option[] { _testSplit, _categorical, _drop }.FirstOrDefault(o => r.GetResult(o) is { Implicit: false })?.Name
        ?? (r.GetResult(_impute) is { Implicit: false } ? _impute.Name : null);

    /// <summary>The table settings for a run of <paramref name="seed"/>; <paramref name="scaling"/> resolved by the caller.</summary>
    public TableSettings Read(ParseResult r, bool regression, FeatureScaling scaling, ulong seed) => new(new TableOptions
    {
        Csv = Csv(r),
        Regression = regression,
        Categorical = List(r.GetValue(_categorical)),
        Drop = List(r.GetValue(_drop)),
        Impute = r.GetValue(_impute) == "mean",
    }, scaling, r.GetValue(_testSplit) ?? 0.2f, seed);

    private static string[] List(string? text) =>
        text is null ? [] : text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>"0.2" as the README writes it.</summary>
    public static string F(float v) => v.ToString(CultureInfo.InvariantCulture);
}
