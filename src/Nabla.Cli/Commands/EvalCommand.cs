using System.CommandLine;
using System.Text.Json.Nodes;
using Nabla.IO;
using Nabla.Training;

namespace Nabla.Cli.Commands;

/// <summary>
/// <c>nabla eval MODEL</c>: test accuracy, the confusion matrix, and per-class precision, recall and F1 of a saved
/// model on the test set of its dataset.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Argument<string>("MODEL") { Description = "A model saved with --save" };
        var dataset = CommonOptions.Dataset();
        var data = CommonOptions.Data();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var activation = CommonOptions.ModelActivation();
        var cmd = new Command("eval", "Evaluate a saved model on the test set: accuracy, confusion matrix, per-class metrics (RMSE, MAE and R² for regression)")
        {
            model, dataset, data, activation, threads, json,
        };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(dataset) ?? "fashion-mnist", r.GetValue(dataset) is not null, r.GetValue(data), r.GetValue(activation), r.GetValue(threads), r.GetValue(json), stdout, stderr));
        return cmd;
    }

    private static int Run(string path, string datasetName, bool datasetExplicit, string? dataDir, string? activation, ThreadChoice threads, bool json, TextWriter o, TextWriter warn)
    {
        using var context = Compute.ComputeContext.Begin(new Compute.ComputeSettings { Threads = threads.Count }); // no steps to time: auto is every core
        var loaded = CommonOptions.LoadModel(path, activation);
        var input = InputSpec.Of(loaded, path);
        if (input.Regression) return RunRegression(path, loaded, input, dataDir, json, o, warn);
        // A tabular model reads its test table as it was trained (columns, labels, scaling); an image model its images.
        // The dataset the model file records is the default; --dataset given on the command line wins (a model
        // trained on MNIST is not silently evaluated on Fashion-MNIST, nor an npy model on a *test*.csv).
        if (!datasetExplicit) datasetName = input.Source ?? (input.IsTable ? "csv" : datasetName);
        if (input.IsTable && datasetName is not ("csv" or "npy"))
            throw new UsageException($"--dataset {datasetName}: {path} reads table rows; use --dataset csv or npy.");
        if (input.Kind == "image" && datasetName is "csv" or "npy")
            throw new UsageException($"--dataset {datasetName}: {path} classifies {input.Height}×{input.Width} images; use fashion-mnist, mnist or folder.");
        if (input.IsTable) input = input with { Source = datasetName };
        var test = input.IsTable && input.Source == "npy" ? DataSets.LoadNpyTest(dataDir, loaded)
            : input.IsTable ? TableData.LoadTest(dataDir, loaded, input, warn, json ? TextWriter.Null : o)
            : input.Kind == "image" && datasetName == "folder"
                ? DataSets.Load(datasetName, dataDir, new Data.CsvOptions(), Data.FeatureScaling.Divide255, input.Height, input.Width).Test
                : DataSets.Load(datasetName, dataDir).Test;
        if (test.Features != loaded.InputFeatures)
            throw new Data.DataFormatException($"{path} takes {loaded.InputFeatures} features per sample; the {datasetName} test set has {test.Features}.");
        var report = ClassificationReport.Evaluate(loaded.Model, test);
        int k = report.ClassNames.Count;
        if (json)
        {
            var matrix = new JsonArray();
            for (int t = 0; t < k; t++) matrix.Add(new JsonArray([.. Enumerable.Range(0, k).Select(p => (JsonNode)JsonValue.Create(report.Confusion[t, p]))]));
            var perClass = new JsonArray();
            for (int c = 0; c < k; c++)
                perClass.Add(new JsonObject
                {
                    ["class"] = report.ClassNames[c], ["precision"] = Math.Round(report.Precision(c), 4),
                    ["recall"] = Math.Round(report.Recall(c), 4), ["f1"] = Math.Round(report.F1(c), 4),
                });
            o.WriteLine(new JsonObject
            {
                ["test_accuracy"] = Math.Round(100 * report.Accuracy, 2), ["samples"] = report.Count,
                ["confusion_matrix"] = matrix, ["per_class"] = perClass,
            }.ToJsonString());
            return 0;
        }
        o.WriteLine($"Test accuracy: {CommonOptions.F(100 * report.Accuracy, 2)} % ({report.Count:N0} samples)");
        o.WriteLine();
        o.WriteLine("Confusion matrix (rows: true class, columns: predicted class)");
        o.WriteLine("".PadLeft(14) + string.Concat(Enumerable.Range(0, k).Select(p => p.ToString().PadLeft(6))));
        for (int t = 0; t < k; t++)
            o.WriteLine($"{t,2} {Short(report.ClassNames[t]),-11}" + string.Concat(Enumerable.Range(0, k).Select(p => report.Confusion[t, p].ToString().PadLeft(6))));
        o.WriteLine();
        o.WriteLine($"{"class",-14}{"precision",10}{"recall",10}{"F1",10}");
        for (int c = 0; c < k; c++)
            o.WriteLine($"{Short(report.ClassNames[c]),-14}{CommonOptions.F(report.Precision(c), 3),10}{CommonOptions.F(report.Recall(c), 3),10}{CommonOptions.F(report.F1(c), 3),10}");
        return 0;
    }

    /// <summary>A regression model: RMSE, MAE and R² per target on the test table.</summary>
    private static int RunRegression(string path, LoadedModel loaded, InputSpec input, string? dataDir, bool json, TextWriter o, TextWriter warn)
    {
        var test = TableData.LoadTest(dataDir, loaded, input, warn, json ? TextWriter.Null : o);
        var fit = RegressionReport.Evaluate(loaded.Model, test, input.TargetNames!);
        if (json)
        {
            var perTarget = new JsonArray([.. fit.TargetNames.Select((n, j) => (JsonNode)new JsonObject
            {
                ["target"] = n, ["rmse"] = Math.Round(fit.Rmse[j], 6), ["mae"] = Math.Round(fit.Mae[j], 6), ["r2"] = Math.Round(fit.R2[j], 6),
            })]);
            o.WriteLine(new JsonObject
            {
                ["test_rmse"] = Math.Round(fit.OverallRmse, 6), ["test_mae"] = Math.Round(fit.OverallMae, 6), ["test_r2"] = Math.Round(fit.OverallR2, 6),
                ["samples"] = test.Count, ["per_target"] = perTarget,
            }.ToJsonString());
            return 0;
        }
        o.WriteLine($"{TrainCommand.RegressionLine(fit)}  ({test.Count:N0} samples)");
        if (fit.TargetNames.Count == 1) return 0;
        o.WriteLine();
        o.WriteLine($"{"target",-14}{"RMSE",12}{"MAE",12}{"R²",10}");
        for (int j = 0; j < fit.TargetNames.Count; j++)
            o.WriteLine($"{Short(fit.TargetNames[j]),-14}{CommonOptions.F(fit.Rmse[j], 4),12}{CommonOptions.F(fit.Mae[j], 4),12}{CommonOptions.F(fit.R2[j], 4),10}");
        return 0;
    }

    private static string Short(string s) => s.Length <= 11 ? s : s[..11];
}
