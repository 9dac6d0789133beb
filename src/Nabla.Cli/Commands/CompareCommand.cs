using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;
using Nabla.Cli.Dashboard;

namespace Nabla.Cli.Commands;

/// <summary>
/// <c>nabla compare --optimizers sgd,adam,adagrad,rmsprop</c>: the textbook's CHAT &amp; LEARN exercise — the same model,
/// from the same initial weights and the same batch order, trained with each optimizer; loss per epoch and test
/// accuracy side by side.
/// </summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter stdout)
    {
        var optimizers = new Option<string>("--optimizers") { Description = "Comma-separated: sgd, adam, adamw, rmsprop, adagrad", DefaultValueFactory = _ => "sgd,adam,adagrad,rmsprop" };
        optimizers.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            foreach (var name in r.Tokens[^1].Value.Split(',', StringSplitOptions.TrimEntries))
                if (!Enum.TryParse<OptimizerKind>(name, ignoreCase: true, out _)) r.AddError($"--optimizers: unknown optimizer '{name}'.");
        });
        var dataset = CommonOptions.Dataset();
        var data = CommonOptions.Data();
        var hidden = CommonOptions.Hidden();
        var activation = CommonOptions.Activation();
        var lr = CommonOptions.Range("--lr", "Learning rate for every optimizer (default: each one's PyTorch default)", 0, 1e6f, minExclusive: true);
        var epochs = CommonOptions.Positive(new Option<int>("--epochs") { Description = "Epochs per optimizer", DefaultValueFactory = _ => 3 });
        var batchSize = CommonOptions.Bounded(new Option<int>("--batch-size") { Description = "Samples per batch", DefaultValueFactory = _ => 32 }, CommonOptions.MaxBatchSize);
        var seed = CommonOptions.Seed();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var plot = new Option<string?>("--plot") { Description = "Write optimizers.png here: one loss curve per optimizer" };
        var dashboard = new DashboardOptions();
        var cmd = new Command("compare", "Train the same model with several optimizers and compare loss and accuracy")
        {
            optimizers, dataset, data, hidden, activation, lr, epochs, batchSize, seed, threads, json, plot,
        };
        foreach (var option in dashboard.All) cmd.Options.Add(option);
        cmd.SetAction(r =>
        {
            var kinds = r.GetValue(optimizers)!.Split(',', StringSplitOptions.TrimEntries).Select(n => CommonOptions.ParseName<OptimizerKind>(n, "--optimizers")).ToArray();
            return Run(kinds, r.GetValue(dataset) ?? "fashion-mnist", r.GetValue(data), CommonOptions.ParseWidths(r.GetValue(hidden)!, "--hidden"),
                CommonOptions.ParseName<ActivationKind>(r.GetValue(activation)!, "--activation"), r.GetValue(lr), r.GetValue(epochs), r.GetValue(batchSize),
                r.GetValue(seed), r.GetValue(threads), r.GetValue(json), OutputPaths.Folder(r.GetValue(plot), "--plot"), dashboard.Read(r), stdout);
        });
        return cmd;
    }

    private static (Data.IDataset, Data.IDataset) Pair((Data.IDataset Train, Data.IDataset Test, string) d) => (d.Train, d.Test);

    private static int Run(OptimizerKind[] kinds, string datasetName, string? dataDir, int[] hidden, ActivationKind activation, float? lr,
        int epochs, int batch, ulong seed, ThreadChoice threads, bool json, string? plotDir, DashboardSettings dashboard, TextWriter o)
    {
        using var setup = RunSetup.Start(threads, new DeviceChoice(Devices.Device.Cpu), "managed", o);
        using var session = DashboardSession.Start(dashboard, "compare", o);
        var (train, test) = datasetName == "csv" ? TableData.Encoded(dataDir, seed, o) : Pair(DataSets.Load(datasetName, dataDir));
        string architecture = new MlpArchitecture(train.Features, hidden, activation, train.Classes).ToString();
        var runs = new List<(OptimizerKind Kind, float Lr, RunResult Result)>();
        foreach (var kind in kinds)
        {
            // One run per optimizer, each from the run's seed: the same initial weights and the same batch order.
            var run = TrainingRun.Create(new TrainConfig
            {
                Hidden = hidden, Activation = activation, Optimizer = kind, LearningRate = lr, Epochs = epochs, BatchSize = batch, Seed = seed,
            }, train);
            string name = OptimizerFactory.PyTorchName(kind);
            float rate = run.Trainer.Optimizer.LearningRate;
            var recorder = session?.Record(name.ToLowerInvariant(), new RunInfo(name, "compare", architecture, name, rate, batch, epochs,
                run.Loader.BatchCount, datasetName, train.ClassNames, TrainCommand.ImageSize(test)), run.Model, test);
            var result = run.Finish(test, run.Fit([.. recorder is null ? [] : new ITrainingCallback[] { recorder }]));
            recorder?.Finish("finished", result.Test.Loss, result.Test.Accuracy);
            runs.Add((kind, rate, result));
            o.WriteLine($"{name,-8} lr {rate.ToString(CultureInfo.InvariantCulture),-6}  final loss {CommonOptions.F(result.History[^1].TrainLoss, 4)}  test accuracy {CommonOptions.F(100 * result.Test.Accuracy, 2)} %");
        }
        if (plotDir is not null)
            Plots.Optimizers(plotDir, [.. runs.Select(r => (OptimizerFactory.PyTorchName(r.Kind), r.Result.History))]);
        if (json) o.WriteLine(Json(architecture, runs).ToJsonString());
        else PrintTable(runs, epochs, o);
        session?.Complete();
        return 0;
    }

    /// <summary>The --json line: per optimizer, its learning rate, loss per epoch, test accuracy and training time.</summary>
    private static JsonObject Json(string architecture, List<(OptimizerKind Kind, float Lr, RunResult Result)> runs) => new()
    {
        ["architecture"] = architecture,
        ["runs"] = new JsonArray([.. runs.Select(r => (JsonNode)new JsonObject
        {
            ["optimizer"] = r.Kind.ToString().ToLowerInvariant(), ["lr"] = r.Lr,
            ["train_loss"] = new JsonArray([.. r.Result.History.Select(m => (JsonNode)JsonValue.Create(Math.Round(m.TrainLoss, 6)))]),
            ["test_accuracy"] = Math.Round(100 * r.Result.Test.Accuracy, 2),
            ["seconds"] = Math.Round(r.Result.TrainSeconds, 3),
        })]),
    };

    /// <summary>Loss by epoch and test accuracy, one column per optimizer.</summary>
    private static void PrintTable(List<(OptimizerKind Kind, float Lr, RunResult Result)> runs, int epochs, TextWriter o)
    {
        o.WriteLine();
        o.WriteLine("train loss by epoch".PadRight(20) + string.Concat(runs.Select(r => OptimizerFactory.PyTorchName(r.Kind).PadLeft(10))));
        for (int e = 0; e < epochs; e++)
            o.WriteLine($"  epoch {e + 1}".PadRight(20) + string.Concat(runs.Select(r => CommonOptions.F(r.Result.History[e].TrainLoss, 4).PadLeft(10))));
        o.WriteLine("test accuracy (%)".PadRight(20) + string.Concat(runs.Select(r => CommonOptions.F(100 * r.Result.Test.Accuracy, 2).PadLeft(10))));
    }
}
