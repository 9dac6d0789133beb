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
        int epochs, int batch, ulong seed, int threads, bool json, string? plotDir, DashboardSettings dashboard, TextWriter o)
    {
        CommonOptions.SetUp(threads, new DeviceChoice(Devices.Device.Cpu), "managed", o);
        using var session = DashboardSession.Start(dashboard, "compare", o);
        var (train, test) = datasetName == "csv" ? TableData.Encoded(dataDir, seed, o) : Pair(DataSets.Load(datasetName, dataDir));
        var architecture = new MlpArchitecture(train.Features, hidden, activation, train.Classes);
        var runs = new List<(OptimizerKind Kind, float Lr, List<EpochMetrics> History, EvalResult Test)>();
        foreach (var kind in kinds)
        {
            var seeds = new RunSeeds(seed);
            var model = architecture.Create(seeds.Weights()); // the same initial weights for every optimizer
            var opt = OptimizerFactory.Create(kind, model.Parameters(), lr);
            var trainer = new Trainer(model, new CrossEntropyLoss(), opt, train.Features, batch);
            var loader = DataLoader.Shuffled(train, batch, seeds.Shuffle()); // and the same batch order
            string name = OptimizerFactory.PyTorchName(kind);
            var recorder = session?.Record(name.ToLowerInvariant(), new RunInfo(name, "compare", architecture.ToString(), name, opt.LearningRate, batch, epochs,
                loader.BatchCount, datasetName, train.ClassNames, TrainCommand.ImageSize(test)), model, test);
            var history = trainer.TrainingLoop(loader, epochs, callbacks: [.. recorder is null ? [] : new ITrainingCallback[] { recorder }]);
            var result = trainer.Test(new DataLoader(test, batch));
            recorder?.Finish("finished", result.Loss, result.Accuracy);
            runs.Add((kind, opt.LearningRate, history, result));
            o.WriteLine($"{OptimizerFactory.PyTorchName(kind),-8} lr {opt.LearningRate.ToString(CultureInfo.InvariantCulture),-6}  final loss {CommonOptions.F(history[^1].TrainLoss, 4)}  test accuracy {CommonOptions.F(100 * result.Accuracy, 2)} %");
        }
        if (plotDir is not null)
            Plots.Optimizers(plotDir, [.. runs.Select(r => (OptimizerFactory.PyTorchName(r.Kind), (IReadOnlyList<EpochMetrics>)r.History))]);
        if (json)
        {
            var arr = new JsonArray();
            foreach (var (kind, rate, history, result) in runs)
                arr.Add(new JsonObject
                {
                    ["optimizer"] = kind.ToString().ToLowerInvariant(), ["lr"] = rate,
                    ["train_loss"] = new JsonArray([.. history.Select(m => (JsonNode)JsonValue.Create(Math.Round(m.TrainLoss, 6)))]),
                    ["test_accuracy"] = Math.Round(100 * result.Accuracy, 2),
                    ["seconds"] = Math.Round(history.Sum(m => m.Seconds), 3),
                });
            o.WriteLine(new JsonObject { ["architecture"] = architecture.ToString(), ["runs"] = arr }.ToJsonString());
            session?.Complete();
            return 0;
        }
        o.WriteLine();
        o.WriteLine("train loss by epoch".PadRight(20) + string.Concat(runs.Select(r => OptimizerFactory.PyTorchName(r.Kind).PadLeft(10))));
        for (int e = 0; e < epochs; e++)
            o.WriteLine($"  epoch {e + 1}".PadRight(20) + string.Concat(runs.Select(r => CommonOptions.F(r.History[e].TrainLoss, 4).PadLeft(10))));
        o.WriteLine("test accuracy (%)".PadRight(20) + string.Concat(runs.Select(r => CommonOptions.F(100 * r.Test.Accuracy, 2).PadLeft(10))));
        session?.Complete();
        return 0;
    }
}
