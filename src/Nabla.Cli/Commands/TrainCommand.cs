using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;
using Nabla.IO;
using Nabla.Cli.Dashboard;

namespace Nabla.Cli.Commands;

/// <summary><c>nabla train</c>: any MLP on Fashion-MNIST, MNIST or a CSV, with the usual knobs.</summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, MpiJob? job = null)
    {
        var dataset = CommonOptions.Dataset();
        var table = new TableFlags();
        var imageSize = ImageSize();
        var data = CommonOptions.Data();
        var model = new ModelFlags();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var gemm = CommonOptions.GemmProvider();
        var save = CommonOptions.Save();
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Folder for a training checkpoint (last.safetensors), written atomically after every epoch" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Also checkpoint every N steps (0: only at epoch ends)" };
        checkpointEvery.Validators.Add(r => { if (r.Tokens.Count > 0 && r.GetValueOrDefault<int>() < 0) r.AddError("--checkpoint-every must be ≥ 0."); });
        var log = new Option<string?>("--log") { Description = "Write per-epoch metrics to this CSV file (rewritten after each epoch)" };
        var plot = new Option<string?>("--plot") { Description = "Write PNG charts here: loss, accuracy, confusion matrix, misclassified images" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the result (and the JSON line with --json)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run of this checkpoint (its configuration is used; --epochs may extend it)" };
        var dashboard = new DashboardOptions();
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a checkpoint already in --checkpoint DIR (another run's) instead of refusing" };
        var cmd = new Command("train", "Train a multilayer perceptron and report test accuracy (RMSE, MAE and R² with --task regression)")
        {
            dataset, data, device, threads, gemm, json, save, checkpoint, checkpointEvery, resume, overwrite, log, quiet, plot, imageSize,
        };
        foreach (var option in model.All.Concat(table.All).Concat(dashboard.All)) cmd.Options.Add(option);
        cmd.SetAction(r =>
        {
            // Every output is checked before any work: a bad path must not cost a trained model.
            var persistence = new Persistence(OutputPaths.File(r.GetValue(save), "--save"), OutputPaths.Folder(r.GetValue(checkpoint), "--checkpoint"),
                r.GetValue(checkpointEvery), r.GetValue(resume), OutputPaths.File(r.GetValue(log), "--log"), r.GetValue(quiet),
                OutputPaths.Folder(r.GetValue(plot), "--plot"));
            string datasetName = DataSets.Resolve(r.GetValue(dataset), r.GetValue(data), model.IsRegression(r), r.GetValue(quiet) ? TextWriter.Null : stdout);
            var config = model.Config(r, persistence.Resume, datasetName == "csv", out string? tableDefaults);
            if (persistence.CheckpointDir is { } dir && File.Exists(Path.Combine(dir, "last.safetensors")) && !r.GetValue(overwrite)
                && (persistence.Resume is null || Path.GetFullPath(persistence.Resume) != Path.GetFullPath(Path.Combine(dir, "last.safetensors"))))
                throw new UsageException($"--checkpoint {dir}: it already holds a checkpoint (last.safetensors). Continue that run with --resume {Path.Combine(dir, "last.safetensors")}, choose another folder, or pass --overwrite to replace it.");
            if (config.Task == TrainTask.Regression && datasetName != "csv")
                throw new UsageException($"--task regression reads tables: use --dataset csv (the targets are --label-column, one or more); the data here is {datasetName}.");
            bool isTable = datasetName is "csv" or "npy";
            var scaling = table.Scaling(r) ?? (datasetName == "csv" ? Data.FeatureScaling.Standardize : isTable ? Data.FeatureScaling.None : Data.FeatureScaling.Divide255);
            if (!isTable && scaling != Data.FeatureScaling.Divide255)
                throw new UsageException($"--scale {Data.FeatureScaler.Name(scaling)}: image datasets are always scaled by 255 (as torchvision's ToTensor).");
            if (datasetName != "csv" && table.TableOnlyGiven(r) is { } flag)
                throw new UsageException($"{flag}: is for CSV tables (--dataset csv); the data here is {datasetName}.");
            if (datasetName == "csv" && !r.GetValue(quiet) && !r.GetValue(json) && (table.Scaling(r) is null || tableDefaults is not null))
                stdout.WriteLine($"Table defaults (scikit-learn's MLP): {string.Join(", ", new[] { table.Scaling(r) is null ? "standardized inputs" : null, tableDefaults }.Where(t => t is not null))}; give a flag to change one");
            var (w, h) = ParseSize(r.GetValue(imageSize)!)!.Value;
            var source = new DataSource(datasetName, r.GetValue(data), table.Read(r, config.Task == TrainTask.Regression, scaling, config.Seed), h, w);
            var where = new Placement(r.GetValue(device)!, r.GetValue(threads), r.GetValue(gemm)!, job);
            return Run(config, source, where, r.GetValue(json), persistence, dashboard.Read(r), stdout, stderr);
        });
        return cmd;
    }

    private static Option<string> ImageSize()
    {
        var o = new Option<string>("--image-size") { Description = "--dataset folder: the size images are converted to, WxH", DefaultValueFactory = _ => "28x28" };
        o.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && ParseSize(r.Tokens[^1].Value) is null) r.AddError($"--image-size must be WxH with sides in [1, 1024]; got '{r.Tokens[^1].Value}'.");
        });
        return o;
    }

    /// <summary>What to write and read: --save, --checkpoint, --checkpoint-every, --resume.</summary>
    private sealed record Persistence(string? Save, string? CheckpointDir, int CheckpointEvery, string? Resume, string? Log, bool Quiet, string? PlotDir);

    /// <summary>Where it computes: --device, --threads, --gemm, and the MPI job.</summary>
    private sealed record Placement(DeviceChoice Device, ThreadChoice Threads, string Gemm, MpiJob? Job)
    {
        /// <summary>Under MPI: the CPU, this host's cores shared; the files and the dashboard rank 0's alone.</summary>
        public (Placement, Persistence, DashboardSettings) ForThisProcess(Persistence files, DashboardSettings dashboard)
        {
            if (Job is null) return (this, files, dashboard);
            var (threads, device) = MpiJob.Adjust(Threads, Device);
            if (!Job.World.IsRoot) (files, dashboard) = (files with { Save = null, CheckpointDir = null, Log = null, PlotDir = null }, dashboard with { Enabled = false });
            return (this with { Threads = threads, Device = device }, files, dashboard);
        }
    }

    /// <summary>--dataset, --data and how to read and scale it.</summary>
    private sealed record DataSource(string Name, string? Dir, TableSettings Table, int ImageHeight, int ImageWidth);

    private static (int W, int H)? ParseSize(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h) && w is >= 1 and <= 1024 && h is >= 1 and <= 1024
            ? (w, h) : null;
    }

    private static int Run(TrainConfig c, DataSource from, Placement where, bool json, Persistence files, DashboardSettings dashboard,
        TextWriter o, TextWriter warn)
    {
        (where, files, dashboard) = where.ForThisProcess(files, dashboard);
        var console = o;
        if (files.Quiet) o = TextWriter.Null; // progress and summaries off; the result lines go to `console`
        using var setup = RunSetup.Start(where.Threads, where.Device, where.Gemm, o);
        using var session = DashboardSession.Start(dashboard, "train", console);
        bool regression = c.Task == TrainTask.Regression;
        if (setup.Gpu is null && !regression) DataSets.WarmUp(from.Name, c.Hidden, c.Activation, c.Dropout, c.BatchSize, [c.Optimizer]);
        var (train, test, input, preprocessor) = LoadData(from, o, warn);
        var run = TrainingRun.Create(c, train, preprocessor);
        if (where.Job is { } job) job.Share(run, files.CheckpointEvery, o);
        else setup.Accelerate(run, o);
        // Only a GPU keeps the weights away mid-epoch. (Under MPI the accelerator is the CPU processes' engine, and only
        // rank 0 has --checkpoint: a refusal there alone would leave the other processes waiting.)
        if (run.Trainer.Accelerator is not null && where.Job is null && files.CheckpointDir is not null && files.CheckpointEvery > 0)
            throw new UsageException("--checkpoint-every: on CUDA, checkpoints are written at each epoch's end (the weights stay on the device mid-epoch); drop --checkpoint-every or use --device cpu.");
        o.WriteLine(ModelSummary.Format(run.Model, train.Features));
        o.WriteLine($"{c.Optimizer} (lr = {run.Trainer.Optimizer.LearningRate.ToString(CultureInfo.InvariantCulture)}), batch {c.BatchSize}, up to {c.Epochs} epochs");
        Persist(run, files, o);
        var recorder = session?.Record(null, new RunInfo("train", "train", RunInfo.Describe(run.Model, train.Features), OptimizerFactory.PyTorchName(c.Optimizer),
            run.Trainer.Optimizer.LearningRate, c.BatchSize, c.Epochs, run.Loader.BatchCount, from.Name, regression ? [] : train.ClassNames, ImageSize(test)),
            run.Model, regression ? null : test);
        var history = Fit(run, recorder, files.Log, o, live: ReferenceEquals(o, Console.Out) && !Console.IsOutputRedirected && !json);
        if (run.Stopper is { StoppedEpoch: > 0 } stopper)
            o.WriteLine($"Early stopping at epoch {stopper.StoppedEpoch}; restored the weights of epoch {stopper.BestEpoch} (val loss {CommonOptions.F(stopper.BestLoss, 4)}).");
        if (run.Convergence is { StoppedEpoch: > 0 } converged)
            o.WriteLine($"Converged at epoch {converged.StoppedEpoch}: the training loss improved by less than {converged.Tolerance.ToString(CultureInfo.InvariantCulture)} for {converged.Patience + 1} epochs (--tol).");
        var result = run.Finish(test, history, input.TargetNames);
        recorder?.Finish("finished", result.Test.Loss, regression ? null : result.Test.Accuracy);
        console.WriteLine(result.Regression is { } fit ? RegressionLine(fit) : $"Test accuracy: {CommonOptions.F(100 * result.Test.Accuracy, 1)} %  (loss {CommonOptions.F(result.Test.Loss, 4)})");
        WriteFiles(run, result, train, test, input, files, o);
        if (json)
        {
            var obj = Json(result, input, where.Gemm, RunSetup.UploadSeconds(run));
            where.Job?.AddJson(obj, run);
            console.WriteLine(obj.ToJsonString());
        }
        session?.Complete();
        return 0;
    }

    /// <summary>The training and test sets, as --dataset and --data say, with what the model must record about its input.</summary>
    private static (IDataset Train, IDataset Test, InputSpec Input, TablePreprocessor? Preprocessor) LoadData(DataSource from, TextWriter o, TextWriter warn)
    {
        var (train, test, source, input, preprocessor) = from.Name == "csv"
            ? TableData.Load(from.Dir, from.Table, warn)
            : DataSets.Load(from.Name, from.Dir, from.Table.Options.Csv, from.Table.Scaling, from.ImageHeight, from.ImageWidth);
        o.WriteLine($"{from.Name}: {train.Count:N0} training and {test.Count:N0} test samples from {source}{(input.Split is { } split ? $" ({TableFlags.F(split.Fraction)} held out as the test set, seed {split.Seed})" : "")}");
        return (train, test, input, preprocessor);
    }

    /// <summary>--resume and --checkpoint: where the run starts and where it writes its checkpoints.</summary>
    private static void Persist(TrainingRun run, Persistence files, TextWriter o)
    {
        if (files.Resume is not null)
        {
            run.Resume(files.Resume);
            o.WriteLine($"Resuming {files.Resume} at epoch {run.StartEpoch + 1}, batch {run.SkipBatches}");
        }
        if (files.CheckpointDir is not null)
        {
            run.CheckpointPath = Path.Combine(files.CheckpointDir, "last.safetensors");
            run.CheckpointEvery = files.CheckpointEvery;
        }
    }

    /// <summary>Trains, printing one line per epoch (or a live bar on a terminal) and rewriting --log after each.</summary>
    private static List<EpochMetrics> Fit(TrainingRun run, ITrainingCallback? recorder, string? log, TextWriter o, bool live)
    {
        var c = run.Config;
        bool regression = c.Task == TrainTask.Regression;
        var logged = new List<EpochMetrics>();
        List<EpochMetrics> FitWith(Action<string> report, ITrainingCallback? progress) => run.Fit([.. progress is null ? [] : new[] { progress },
            .. recorder is null ? [] : new[] { recorder },
            Callback.OnEpochEnd(m =>
            {
                logged.Add(m);
                if (log is not null) MetricsCsv.Write(log, logged, hasAccuracy: !regression);
                report(EpochLine(m, c.Epochs, regression));
            })]);
        return live ? LiveProgress.Run(run.Loader.BatchCount, c.BatchSize, c.Epochs, FitWith) : FitWith(o.WriteLine, null);
    }

    /// <summary>One epoch's line: loss (and accuracy for a classifier; regression has none, its loss is the measure), validation, time.</summary>
    private static string EpochLine(EpochMetrics m, int epochs, bool regression)
    {
        string val = m.Validation is { } v ? $"  val loss {CommonOptions.F(v.Loss, 4)}{(regression ? "" : $"  val accuracy {CommonOptions.F(100 * v.Accuracy, 1)} %")}" : "";
        return $"Epoch {m.Epoch}/{epochs}  loss {CommonOptions.F(m.TrainLoss, 4)}{(regression ? "" : $"  accuracy {CommonOptions.F(100 * m.TrainAccuracy, 1)} %")}{val}  {CommonOptions.F(m.Seconds, 3)} s  {m.SamplesPerSecond:N0} samples/s";
    }

    /// <summary>--log, --plot and --save, after training.</summary>
    private static void WriteFiles(TrainingRun run, RunResult result, IDataset train, IDataset test, InputSpec input, Persistence files, TextWriter o)
    {
        bool regression = result.Regression is not null;
        var history = result.History;
        if (files.Log is not null) MetricsCsv.Write(files.Log, history, regression ? null : result.Test.Accuracy, hasAccuracy: !regression);
        if (files.PlotDir is not null && history.Count > 0)
        {
            Plots.Curves(files.PlotDir, history, regression ? null : result.Test.Accuracy);
            if (result.Regression is { } fit) Plots.Regression(files.PlotDir, fit);
            else
            {
                var report = ClassificationReport.Evaluate(run.Model, test);
                Plots.Confusion(files.PlotDir, report);
                if (test is ImageDataset images) Plots.Misclassified(files.PlotDir, images, report.Misclassified, report.Count - (int)Math.Round(report.Accuracy * report.Count));
            }
            o.WriteLine($"Wrote charts to {files.PlotDir}");
        }
        if (files.Save is not null)
        {
            ModelFile.Save(files.Save, run.Model, regression ? input.TargetNames! : train.ClassNames, metadata: input.ToMetadata());
            o.WriteLine($"Saved the model to {files.Save}");
        }
    }

    /// <summary>The --json line: the result, each epoch, and where and how fast it ran.</summary>
    private static JsonObject Json(RunResult result, InputSpec input, string gemm, double uploadSeconds)
    {
        bool regression = result.Regression is not null;
        var obj = new JsonObject
        {
            ["task"] = regression ? "regression" : "classification",
            ["test_loss"] = Math.Round(result.Test.Loss, 6),
            ["epochs"] = new JsonArray([.. result.History.Select(m => (JsonNode)EpochJson(m, regression))]),
            ["stopped_early"] = result.StoppedEarlyAt is not null,
            ["converged_epoch"] = result.ConvergedAt,
            ["split"] = input.Split?.ToJson(),
            ["train_seconds"] = Math.Round(result.TrainSeconds, 3),
            ["total_seconds"] = Math.Round(SeedCommand.ProcessSeconds(), 3),
            ["gemm"] = gemm,
            ["device"] = result.Device,
            ["upload_seconds"] = Math.Round(uploadSeconds, 3),
        };
        if (result.Regression is not { } fit) obj["test_accuracy"] = Math.Round(100 * result.Test.Accuracy, 2);
        else
        {
            obj["test_rmse"] = Math.Round(fit.OverallRmse, 6);
            obj["test_mae"] = Math.Round(fit.OverallMae, 6);
            obj["test_r2"] = Math.Round(fit.OverallR2, 6);
        }
        RunSetup.AddThreads(obj);
        return obj;
    }

    private static JsonObject EpochJson(EpochMetrics m, bool regression)
    {
        var e = new JsonObject { ["epoch"] = m.Epoch, ["train_loss"] = Math.Round(m.TrainLoss, 6), ["seconds"] = Math.Round(m.Seconds, 4) };
        if (!regression) e["train_accuracy"] = Math.Round(100 * m.TrainAccuracy, 3);
        if (m.Validation is { } v)
        {
            e["val_loss"] = Math.Round(v.Loss, 6);
            if (!regression) e["val_accuracy"] = Math.Round(100 * v.Accuracy, 3);
        }
        return e;
    }

    /// <summary>Height and width of an image dataset's samples, for the dashboard's pictures.</summary>
    internal static (int Height, int Width)? ImageSize(IDataset data) => data is ImageDataset images ? (images.Height, images.Width) : null;

    /// <summary>The result line of a regression: RMSE, MAE and R² on the test set (over all targets).</summary>
    internal static string RegressionLine(RegressionReport fit) =>
        $"Test RMSE: {CommonOptions.F(fit.OverallRmse, 4)}  MAE: {CommonOptions.F(fit.OverallMae, 4)}  R²: {CommonOptions.F(fit.OverallR2, 4)}"
        + (fit.TargetNames.Count > 1 ? "  (" + string.Join(", ", fit.TargetNames.Select((n, j) => $"{n}: RMSE {CommonOptions.F(fit.Rmse[j], 4)}, R² {CommonOptions.F(fit.R2[j], 4)}")) + ")" : "");
}
