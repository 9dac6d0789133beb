using System.CommandLine;
using System.Text.Json.Nodes;
using Nabla.IO;
using Nabla.NN;

namespace Nabla.Cli.Commands;

/// <summary><c>nabla summary MODEL</c>: layers, output shapes, parameter counts and size on disk of a saved model.</summary>
internal static class SummaryCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new Argument<string>("MODEL") { Description = "A model saved with --save (or PyTorch nn.Sequential weights in safetensors)" };
        var json = CommonOptions.Json();
        var activation = CommonOptions.ModelActivation();
        var cmd = new Command("summary", "Show a saved model's layers, shapes and parameter counts") { model, activation, json };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(activation), r.GetValue(json), stdout));
        return cmd;
    }

    private static int Run(string path, string? activation, bool json, TextWriter o)
    {
        var loaded = CommonOptions.LoadModel(path, activation);
        long bytes = new FileInfo(path).Length;
        var rows = ModelSummary.Rows(loaded.Plan);
        // A regression model's outputs are named targets, a classifier's classes.
        var input = InputSpec.Of(loaded, path);
        bool regression = input.Regression;
        var columns = input.IsTable ? TableData.SchemaOf(loaded, input).Columns : [];
        if (json)
        {
            var layers = new JsonArray();
            foreach (var row in rows)
                layers.Add(new JsonObject { ["layer"] = row.Name, ["output_shape"] = row.OutputShape, ["parameters"] = row.Parameters });
            o.WriteLine(new JsonObject
            {
                ["architecture"] = loaded.Plan.ToString(),
                ["inputs"] = loaded.Plan.InputFeatures,
                ["layers"] = layers,
                ["parameters"] = rows.Sum(r => r.Parameters),
                ["task"] = regression ? "regression" : "classification",
                [regression ? "targets" : "classes"] = new JsonArray([.. loaded.ClassNames.Select(c => (JsonNode)JsonValue.Create(c))]),
                ["bytes_on_disk"] = bytes,
                ["columns"] = new JsonArray([.. columns.Select(c => (JsonNode)new JsonObject
                {
                    ["name"] = c.Name, ["kind"] = c.Kind == Data.ColumnKind.Numeric ? "numeric" : "categorical", ["treatment"] = c.Describe(),
                })]),
            }.ToJsonString());
            return 0;
        }
        o.WriteLine($"{path}: {loaded.Plan}, {bytes:N0} bytes on disk");
        o.WriteLine(ModelSummary.Format(loaded.Plan));
        o.WriteLine($"{(regression ? "Targets" : "Classes")}: {string.Join(", ", loaded.ClassNames)}");
        if (columns.Count == 0) return 0;
        o.WriteLine($"Input columns ({columns.Count}; the model's first layer prepares them):");
        foreach (var c in columns) o.WriteLine($"  {c.Name}: {c.Describe()}");
        return 0;
    }
}
