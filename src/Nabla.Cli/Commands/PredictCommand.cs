using System.CommandLine;
using System.Text.Json.Nodes;
using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.Cli.Commands;

/// <summary><c>nabla predict MODEL IMAGE…</c>: the top-3 classes, with probabilities, of each PNG or JPEG image.</summary>
internal static class PredictCommand
{
    public static Command Create(TextWriter stdout, Stream stdin)
    {
        var model = new Argument<string>("MODEL") { Description = "A model saved with --save" };
        var images = new Argument<string[]>("INPUT") { Description = "PNG or JPEG files for an image model; CSV files of rows (or - for standard input) for a table model", Arity = ArgumentArity.OneOrMore };
        var invert = new Option<string>("--invert") { Description = "Invert gray levels: auto (if the border is light), yes, no", DefaultValueFactory = _ => "auto" }
            .AcceptOnlyFromAmong("auto", "yes", "no");
        var json = CommonOptions.Json();
        var activation = CommonOptions.ModelActivation();
        var cmd = new Command("predict", "Classify images (converted to the model's size in grayscale) or table rows, or predict a regression model's values, as the model was trained") { model, images, invert, activation, json };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(images)!, r.GetValue(invert)!, r.GetValue(activation), r.GetValue(json), stdout, stdin));
        return cmd;
    }

    private static int Run(string path, string[] images, string invert, string? activation, bool json, TextWriter o, Stream stdin)
    {
        var loaded = CommonOptions.LoadModel(path, activation);
        var input = InputSpec.Of(loaded, path);
        if (input.Kind == "unknown")
        {
            if (!images.All(i => i == "-" || i.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || i.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)))
                throw new UsageException($"{path} takes {loaded.InputFeatures} features, not a square image.");
            input = new InputSpec("table", Data.FeatureScaler.Identity, new Data.CsvOptions(), [.. Enumerable.Range(0, loaded.InputFeatures).Select(i => $"x{i}")]);
        }
        if (input.IsTable) return PredictRows(path, loaded, input, images, json, o, stdin);
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
    private static int PredictRows(string path, IO.LoadedModel loaded, InputSpec input, string[] files, bool json, TextWriter o, Stream stdin)
    {
        var names = input.FeatureNames!;
        var results = new JsonArray();
        foreach (var file in files)
        {
            if (ImageExtensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                throw new UsageException($"{file}: {path} {(input.Regression ? "predicts from" : "classifies")} table rows of {names.Count} features ({string.Join(", ", names.Take(6))}{(names.Count > 6 ? ", …" : "")}), not images.");
            var (x, rows) = file.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? NpyRows(file, names.Count) : Rows(file, ReadLines(file, stdin), input);
            input.Scaler.Apply(x);
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
    /// The non-blank lines of a CSV file, or of standard input for "-", decoded alike: UTF-8 unless a byte-order mark
    /// says UTF-16 or UTF-32 (the mark itself dropped), CRLF or LF, each line bounded (<see cref="Data.TextLines"/>).
    /// </summary>
    private static List<string> ReadLines(string file, Stream stdin)
    {
        if (file == "-") return Lines(stdin, "standard input"); // left open: the process's, not ours to close
        using var stream = Data.InputFile.OpenRead(file);
        return Lines(stream, file);
        static List<string> Lines(Stream s, string name) => [.. Data.TextLines.Read(s, name).Where(l => !string.IsNullOrWhiteSpace(l.Text)).Select(l => l.Text)];
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

    /// <summary>The feature values of the rows, in the model's column order.</summary>
    private static (float[] X, int Rows) Rows(string file, List<string> lines, InputSpec input)
    {
        var names = input.FeatureNames!;
        char d = input.Csv!.Delimiter;
        string[] Cells(string line) => [.. line.Split(d).Select(c => c.Trim().Trim('"'))];
        int[] columns = [.. Enumerable.Range(0, names.Count)];
        int start = 0;
        if (lines.Count > 0)
        {
            var first = Cells(lines[0]);
            bool header = first.Any(c => !float.TryParse(c, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
            if (header)
            {
                columns = [.. names.Select(n => Array.IndexOf(first, n) is var at && at >= 0 ? at
                    : throw new Data.DataFormatException($"{file}: no column '{n}' (the model's features are {string.Join(", ", names.Take(8))}{(names.Count > 8 ? ", …" : "")}).")) ];
                start = 1;
            }
            else if (first.Length == names.Count + 1 && input.LabelName is null)
            {
                // Rows with the label still in them, where training found it (the first column unless said otherwise).
                int label = input.Csv.LabelIndex(file, first.Length, null);
                columns = [.. Enumerable.Range(0, first.Length).Where(j => j != label)];
            }
            else if (first.Length != names.Count)
                throw new Data.DataFormatException($"{file}: rows have {first.Length} values; the model takes {names.Count} features ({string.Join(", ", names.Take(8))}{(names.Count > 8 ? ", …" : "")}).");
        }
        int rows = lines.Count - start;
        if (rows <= 0) throw new Data.DataFormatException($"{file}: no rows to classify.");
        var x = new float[rows * names.Count];
        for (int r = 0; r < rows; r++)
        {
            var cells = Cells(lines[start + r]);
            for (int j = 0; j < columns.Length; j++)
            {
                if (columns[j] >= cells.Length || !float.TryParse(cells[columns[j]], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
                    throw new Data.DataFormatException($"{file}: row {r + 1}: column {columns[j] + 1} is not a number.");
                x[r * names.Count + j] = v;
            }
        }
        return (x, rows);
    }
}
