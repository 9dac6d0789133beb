using System.CommandLine;
using System.Text.Json.Nodes;
using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.Cli.Commands;

/// <summary><c>nabla predict MODEL IMAGE…</c>: the top-3 classes, with probabilities, of each PNG or JPEG image.</summary>
internal static class PredictCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Stream stdin)
    {
        var model = new Argument<string>("MODEL") { Description = "A model saved with --save" };
        var images = new Argument<string[]>("INPUT") { Description = "PNG or JPEG files for an image model; CSV files of rows (or - for standard input) for a table model", Arity = ArgumentArity.OneOrMore };
        var invert = new Option<string>("--invert") { Description = "Invert gray levels: auto (if the border is light), yes, no", DefaultValueFactory = _ => "auto" }
            .AcceptOnlyFromAmong("auto", "yes", "no");
        var json = CommonOptions.Json();
        var activation = CommonOptions.ModelActivation();
        var cmd = new Command("predict", "Classify images (converted to the model's size in grayscale) or table rows, or predict a regression model's values, as the model was trained") { model, images, invert, activation, json };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(images)!, r.GetValue(invert)!, r.GetValue(activation), r.GetValue(json), stdout, stderr, stdin));
        return cmd;
    }

    private static int Run(string path, string[] images, string invert, string? activation, bool json, TextWriter o, TextWriter warn, Stream stdin)
    {
        var loaded = CommonOptions.LoadModel(path, activation);
        var input = InputSpec.Of(loaded, path);
        if (input.Kind == "unknown")
        {
            if (!images.All(i => i == "-" || i.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || i.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)))
                throw new UsageException($"{path} takes {loaded.InputFeatures} features, not a square image.");
            input = new InputSpec("table", new Data.CsvOptions(), [.. Enumerable.Range(0, loaded.InputFeatures).Select(i => $"x{i}")]);
        }
        if (input.IsTable) return PredictRows(path, loaded, input, images, json, o, warn, stdin);
        foreach (var image in images)
            if (image == "-" || image.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || image.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"{image}: {path} classifies {input.Height}×{input.Width} images, not table rows.");
        loaded.Model.Eval();
        var results = new JsonArray();
        foreach (var image in images)
        {
            var x = Imaging.LoadGrayscale(image, input.Width, input.Height, invert switch { "yes" => true, "no" => false, _ => null });
            float[] probabilities;
            using (GradMode.NoGrad())
                probabilities = loaded.Model.Forward(Tensor.FromArray(x, 1, input.Width * input.Height)).Softmax(-1).ToArray();
            var top = probabilities.Select((p, i) => (p, i)).OrderByDescending(t => t.p).Take(3).ToArray();
            if (json)
            {
                results.Add(new JsonObject
                {
                    ["image"] = image,
                    ["top"] = new JsonArray([.. top.Select(t => (JsonNode)new JsonObject
                    {
                        ["class"] = loaded.ClassNames[t.i], ["index"] = t.i, ["probability"] = Math.Round(t.p, 5),
                    })]),
                });
                continue;
            }
            o.WriteLine($"{image}: " + string.Join(", ", top.Select(t => $"{loaded.ClassNames[t.i]} {CommonOptions.F(100 * t.p, 1)} %")));
        }
        if (json) o.WriteLine(new JsonObject { ["predictions"] = results }.ToJsonString());
        return 0;
    }

    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>Rows of CSV files (or standard input) through a table model: columns by name when there is a header.</summary>
    private static int PredictRows(string path, IO.LoadedModel loaded, InputSpec input, string[] files, bool json, TextWriter o, TextWriter warn, Stream stdin)
    {
        var names = input.FeatureNames!;
        var results = new JsonArray();
        foreach (var file in files)
        {
            if (ImageExtensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                throw new UsageException($"{file}: {path} {(input.Regression ? "predicts from" : "classifies")} table rows of {names.Count} features ({string.Join(", ", names.Take(6))}{(names.Count > 6 ? ", …" : "")}), not images.");
            var (x, rows) = file.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? NpyRows(file, names.Count) : Rows(file, loaded, input, stdin, warn);
            if (input.Regression)
            {
                Values(file, loaded.Model.PredictValues(Tensor.FromArray(x, rows, names.Count)), input.TargetNames!, results, json, o);
                continue;
            }
            var p = loaded.Model.PredictProba(Tensor.FromArray(x, rows, names.Count));
            int k = loaded.ClassNames.Count;
            for (int r = 0; r < rows; r++)
            {
                var top = p.Data.Slice(r * k, k).ToArray().Select((v, i) => (v, i)).OrderByDescending(t => t.v).Take(3).ToArray();
                if (json)
                {
                    results.Add(new JsonObject
                    {
                        ["input"] = file, ["row"] = r + 1,
                        ["top"] = new JsonArray([.. top.Select(t => (JsonNode)new JsonObject
                        {
                            ["class"] = loaded.ClassNames[t.i], ["index"] = t.i, ["probability"] = Math.Round(t.v, 5),
                        })]),
                    });
                    continue;
                }
                o.WriteLine($"{file}:{r + 1}: " + string.Join(", ", top.Select(t => $"{loaded.ClassNames[t.i]} {CommonOptions.F(100 * t.v, 1)} %")));
            }
        }
        if (json) o.WriteLine(new JsonObject { ["predictions"] = results }.ToJsonString());
        return 0;
    }

    /// <summary>A regression model's outputs: one number per target for each row.</summary>
    private static void Values(string file, Tensor y, IReadOnlyList<string> targets, JsonArray results, bool json, TextWriter o)
    {
        int t = targets.Count, rows = y.Size / t;
        for (int r = 0; r < rows; r++)
        {
            var row = y.Data.Slice(r * t, t).ToArray();
            if (json)
            {
                var values = new JsonObject();
                for (int j = 0; j < t; j++) values[targets[j]] = Math.Round(row[j], 6);
                results.Add(new JsonObject { ["input"] = file, ["row"] = r + 1, ["values"] = values });
                continue;
            }
            o.WriteLine($"{file}:{r + 1}: " + string.Join(", ", row.Select((v, j) => $"{targets[j]} = {v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}")));
        }
    }

    /// <summary>
    /// The raw rows of a CSV file, or of standard input for "-" (decoded alike: UTF-8 unless a byte-order mark says
    /// otherwise, CRLF or LF), read against the model's columns: by name when there is a header, with or without the
    /// label; the model's first layer does the rest (gaps, scaling, categories).
    /// </summary>
    private static (float[] X, int Rows) Rows(string file, IO.LoadedModel loaded, InputSpec input, Stream stdin, TextWriter warn)
    {
        var schema = TableData.SchemaOf(loaded, input);
        var options = TableData.OptionsOf(input);
        Data.RawTable table;
        if (file == "-") table = Data.TableReader.Read(stdin, "-", options, schema, requireLabels: false); // stdin is the process's: left open
        else table = Data.TableReader.Read(file, options, schema, requireLabels: false);
        TableData.Warn(table, warn);
        // The schema reader parses into an array: handed on as it is, not copied.
        var x = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(table.Values, out var a) && a.Offset == 0 && a.Count == a.Array!.Length ? a.Array : table.Values.ToArray();
        return (x, table.Rows);
    }

    /// <summary>The rows of a NumPy array file (n, …): each sample's values flattened, as --dataset npy reads x_*.npy.</summary>
    private static (float[] X, int Rows) NpyRows(string file, int features)
    {
        var a = Data.NpyReader.Read(file);
        long perRow = a.Shape.Length < 2 ? -1 : a.Shape.Skip(1).Aggregate(1L, (p, d) => p * d);
        if (perRow != features)
            throw new Data.DataFormatException($"{file}: shape ({string.Join(", ", a.Shape)}); the model takes rows of {features} features, an array of shape (n, {features}).");
        if (a.Shape[0] == 0) throw new Data.DataFormatException($"{file}: no rows to predict.");
        var x = new float[a.Values.Length];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)a.Values[i];
            if (!float.IsFinite(x[i])) throw new Data.DataFormatException($"{file}: row {i / features + 1}, column {i % features + 1} is {a.Values[i]}, not a finite number.");
        }
        return (x, (int)a.Shape[0]);
    }
}
