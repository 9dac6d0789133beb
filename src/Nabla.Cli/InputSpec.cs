using System.Text.Json.Nodes;
using Nabla.Data;

namespace Nabla.Cli;

/// <summary>
/// How a model's inputs are read: images of a size, or table rows with named columns (the CSV dialect, the label, the
/// dataset, a single file's held-out split). Saved in the model file (<c>nabla.input</c>), so that <c>eval</c> and
/// <c>predict</c> read inputs exactly as training did, and refuse inputs of the other kind; what is done to them once
/// read (gaps, scaling, categories) is the model's own first layer.
/// </summary>
internal sealed record InputSpec(string Kind, CsvOptions? Csv = null, IReadOnlyList<string>? FeatureNames = null,
    string? LabelName = null, int Height = 0, int Width = 0)
{
    /// <summary>Whether the model predicts numbers (regression) rather than classes.</summary>
    public bool Regression { get; init; }

    /// <summary>
    /// The --dataset it was trained on: "csv" or "npy" for a table, "fashion-mnist", "mnist" or "folder" for images
    /// (null in files written before it was recorded), so that eval reads its test set the same way by default.
    /// </summary>
    public string? Source { get; init; }

    /// <summary>A regression model's targets, in output order.</summary>
    public IReadOnlyList<string>? TargetNames { get; init; }

    /// <summary>Table columns left out (<c>--drop-columns</c>): a file without a header is read by position, so they must be known.</summary>
    public IReadOnlyList<string> Drop { get; init; } = [];

    /// <summary>When one file was split into training and test rows: how, so that eval can redraw the same test rows.</summary>
    public TableSplit? Split { get; init; }

    public const string Key = "nabla.input";

    public bool IsTable => Kind == "table";

    public static InputSpec Image(int height, int width, string? source = null) => new("image", Height: height, Width: width) { Source = source };

    public Dictionary<string, string> ToMetadata()
    {
        // Scaling is the model's first layer (a ColumnTransformer), not a note beside it; "none" here tells readers of
        // older files' layout (which applied this entry themselves) that there is nothing left to apply.
        var o = new JsonObject { ["kind"] = Kind, ["scaling"] = FeatureScaler.Identity.ToJson(), ["task"] = Regression ? "regression" : "classification" };
        if (Source is not null) o["source"] = Source;
        if (Regression) o["targets"] = new JsonArray([.. TargetNames!.Select(n => (JsonNode)JsonValue.Create(n))]);
        if (IsTable)
        {
            if (Drop.Count > 0) o["drop"] = new JsonArray([.. Drop.Select(n => (JsonNode)JsonValue.Create(n))]);
            if (Split is not null) o["split"] = Split.ToJson();
            o["csv"] = Csv!.ToJson();
            o["features"] = new JsonArray([.. FeatureNames!.Select(n => (JsonNode)JsonValue.Create(n))]);
            o["label"] = LabelName;
        }
        else (o["height"], o["width"]) = (Height, Width);
        return new() { [Key] = o.ToJsonString() };
    }

    /// <summary>The spec a model file records; for files without one (older, or PyTorch's): images if the width is square.</summary>
    /// <exception cref="DataFormatException">The recorded spec is malformed.</exception>
    public static InputSpec Of(IO.LoadedModel model, string path)
    {
        if (!model.Metadata.TryGetValue(Key, out var json))
        {
            // An older or PyTorch-written file says nothing of its inputs: images if the width is a square (as
            // before), else unknown — then the command line's own flags say how to read data for it.
            int side = (int)Math.Round(Math.Sqrt(model.InputFeatures));
            return side * side == model.InputFeatures ? Image(side, side) : new("unknown");
        }
        try
        {
            var o = JsonNode.Parse(json)!.AsObject();
            string kind = o["kind"]!.GetValue<string>();
            if (kind == "image")
            {
                int h = o["height"]!.GetValue<int>(), w = o["width"]!.GetValue<int>();
                if (h < 1 || w < 1 || (long)h * w != model.InputFeatures) throw new FormatException($"{h}×{w} images for {model.InputFeatures} inputs");
                string? imageSource = o["source"]?.GetValue<string>();
                if (imageSource is not (null or "fashion-mnist" or "mnist" or "folder")) throw new FormatException($"unknown image dataset '{imageSource}'");
                return new InputSpec(kind, Height: h, Width: w) { Source = imageSource };
            }
            if (kind != "table") throw new FormatException($"unknown input kind '{kind}'");
            var names = o["features"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
            if (names.Length != model.InputFeatures) throw new FormatException($"{names.Length} feature names for {model.InputFeatures} inputs");
            bool regression = o["task"]?.GetValue<string>() == "regression";
            var targets = regression ? o["targets"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray() : null;
            if (targets is not null && targets.Length != model.Plan.OutputFeatures) throw new FormatException($"{targets.Length} targets for {model.Plan.OutputFeatures} outputs");
            string source = o["source"]?.GetValue<string>() ?? "csv";
            if (source is not ("csv" or "npy")) throw new FormatException($"unknown table source '{source}'");
            return new InputSpec(kind, CsvOptions.FromJson(o["csv"]), names, o["label"]?.GetValue<string>())
            {
                Regression = regression, TargetNames = targets, Source = source,
                Drop = o["drop"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray() ?? [],
                Split = o["split"] is { } split ? TableSplit.FromJson(split) : null,
            };
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or NullReferenceException or System.Text.Json.JsonException)
        {
            throw new DataFormatException($"{path}: bad '{Key}' metadata ({e.Message}).", e);
        }
    }
}

/// <summary>How one table file was split into training and test rows (<see cref="HoldOut"/>), recorded in the model.</summary>
/// <param name="File">The file's name (not its folder: the model may move).</param>
/// <param name="Rows">Its data rows.</param>
/// <param name="Fraction">The held-out fraction.</param>
/// <param name="Seed">The run's seed (the split draws from <see cref="Training.RunSeeds.TestSplit"/>).</param>
/// <param name="Stratified">Whether classes were split one by one.</param>
/// <param name="TestRows">Rows held out.</param>
/// <param name="Hash">The held-out rows' fingerprint (<see cref="HoldOut.Hash"/>).</param>
internal sealed record TableSplit(string File, int Rows, float Fraction, ulong Seed, bool Stratified, int TestRows, string Hash)
{
    public JsonObject ToJson() => new()
    {
        ["file"] = File, ["rows"] = Rows, ["test_fraction"] = Fraction, ["seed"] = Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["stratified"] = Stratified, ["test_rows"] = TestRows, ["test_rows_hash"] = Hash,
    };

    /// <exception cref="FormatException">Malformed.</exception>
    public static TableSplit FromJson(JsonNode node)
    {
        var o = node.AsObject();
        float fraction = o["test_fraction"]!.GetValue<float>();
        if (!(fraction > 0 && fraction < 1)) throw new FormatException($"test fraction {fraction}");
        return new TableSplit(o["file"]!.GetValue<string>(), o["rows"]!.GetValue<int>(), fraction,
            ulong.Parse(o["seed"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture), o["stratified"]!.GetValue<bool>(),
            o["test_rows"]!.GetValue<int>(), o["test_rows_hash"]!.GetValue<string>());
    }

    /// <summary>"the 20 % of table.csv held out at training (seed 42, stratified)".</summary>
    public override string ToString() =>
        $"the {(100 * Fraction).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} % of {File} held out at training ({TestRows:N0} rows; seed {Seed}{(Stratified ? ", stratified" : "")})";
}
