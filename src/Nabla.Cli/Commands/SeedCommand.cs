using System.CommandLine;
using System.Diagnostics;
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
/// <c>nabla seed</c>: the textbook's experiment exactly (section 8.5.3) — Fashion-MNIST,
/// <c>Flatten, Linear(784, 32), Sigmoid, Linear(32, 10)</c>, batch 32, shuffled, SGD lr 1e-3 for 10 epochs,
/// test; then Adam (defaults) on the same model for 3 epochs, test.
/// </summary>
internal static class SeedCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, MpiJob? job = null)
    {
        var data = CommonOptions.Data();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var gemm = CommonOptions.GemmProvider();
        var save = CommonOptions.Save();
        var seed = CommonOptions.Seed();
        var dashboard = new DashboardOptions();
        var cmd = new Command("seed", "Run the textbook's experiment: 10 epochs of SGD, then 3 of Adam, on Fashion-MNIST")
        {
            data, device, threads, gemm, json, seed, save,
        };
        foreach (var option in dashboard.All) cmd.Options.Add(option);
        cmd.SetAction(r =>
        {
            var (threadChoice, deviceChoice) = job is null ? (r.GetValue(threads), r.GetValue(device)!) : MpiJob.Adjust(r.GetValue(threads), r.GetValue(device)!);
            bool root = job is null || job.World.IsRoot; // under MPI, rank 0 alone writes and serves
            var settings = dashboard.Read(r);
            return Run(r.GetValue(data), deviceChoice, threadChoice, r.GetValue(gemm)!, r.GetValue(json), r.GetValue(seed),
                root ? OutputPaths.File(r.GetValue(save), "--save") : null, root ? settings : settings with { Enabled = false }, stdout, job);
        });
        return cmd;
    }

    /// <summary>The textbook's two phases: the optimizer, its learning rate (null: PyTorch's default), epochs, and the line that announces it.</summary>
    private static readonly (string Name, OptimizerKind Kind, float? Lr, int Epochs, string Header)[] Phases =
    [
        ("sgd", OptimizerKind.Sgd, 1e-3f, 10, "SGD (lr = 1e-3), batch 32, 10 epochs"),
        ("adam", OptimizerKind.Adam, null, 3, "Adam (defaults), same model, 3 epochs"),
    ];

    private static int Run(string? dataDir, DeviceChoice device, ThreadChoice threads, string gemm, bool json, ulong seed, string? save,
        DashboardSettings dashboard, TextWriter o, MpiJob? job)
    {
        using var setup = RunSetup.Start(threads, device, gemm, o);
        using var session = DashboardSession.Start(dashboard, "seed", o);
        const int batch = 32;
        if (setup.Gpu is null) DataSets.WarmUp("fashion-mnist", [32], ActivationKind.Sigmoid, 0f, batch, [OptimizerKind.Sgd, OptimizerKind.Adam]);
        var loadClock = Stopwatch.StartNew();
        var (train, test, source) = DataSets.Load("fashion-mnist", dataDir);
        o.WriteLine($"Fashion-MNIST: {train.Count:N0} training and {test.Count:N0} test images from {source} ({CommonOptions.F(loadClock.Elapsed.TotalSeconds, 2)} s)");
        var first = Phases[0];
        var run = TrainingRun.Create(new TrainConfig
        {
            Hidden = [32], Activation = ActivationKind.Sigmoid, Optimizer = first.Kind, LearningRate = first.Lr, Epochs = first.Epochs, BatchSize = batch, Seed = seed,
        }, train);
        if (job is not null) job.Share(run, 0, o);
        else setup.Accelerate(run, o);
        o.WriteLine(run.Model);
        var results = new List<RunResult>();
        foreach (var phase in Phases)
        {
            if (results.Count > 0) run.NextPhase(phase.Kind, phase.Lr, phase.Epochs);
            o.WriteLine(phase.Header);
            results.Add(RunPhase(run, phase.Name, test, session, o));
        }
        if (save is not null)
        {
            var images = (ImageDataset)train;
            IO.ModelFile.Save(save, run.Model, train.ClassNames, metadata: InputSpec.Image(images.Height, images.Width, "fashion-mnist").ToMetadata());
            o.WriteLine($"Saved the model to {save}");
        }
        if (json)
        {
            var obj = Json(results, seed, gemm, RunSetup.UploadSeconds(run));
            job?.AddJson(obj, run);
            o.WriteLine(obj.ToJsonString());
        }
        session?.Complete();
        return 0;
    }

    /// <summary>
    /// One phase: an epoch line each (numbered within the phase), the test accuracy. The dashboard shows
    /// the two phases as two runs, Adam's epochs continuing SGD's on the x axis.
    /// </summary>
    private static RunResult RunPhase(TrainingRun run, string name, IDataset test, DashboardSession? session, TextWriter o)
    {
        var c = run.Config;
        int start = run.StartEpoch, epochs = c.Epochs - start;
        string optimizer = OptimizerFactory.PyTorchName(c.Optimizer);
        var recorder = session?.Record(name, new RunInfo(name, "seed", RunInfo.Describe(run.Model, test.Features), optimizer, run.Trainer.Optimizer.LearningRate,
            c.BatchSize, epochs, run.Loader.BatchCount, "fashion-mnist", test.ClassNames, TrainCommand.ImageSize(test)) { EpochOffset = start, TrainerEpochBase = start },
            run.Model, test);
        var history = run.Fit([.. recorder is null ? [] : new ITrainingCallback[] { recorder }, Callback.OnEpochEnd(m =>
            o.WriteLine($"[{name}] Epoch {m.Epoch - start}/{epochs}  loss {CommonOptions.F(m.TrainLoss, 4)}  accuracy {CommonOptions.F(100 * m.TrainAccuracy, 1)} %  {CommonOptions.F(m.Seconds, 3)} s  {m.SamplesPerSecond:N0} samples/s"))]);
        var result = run.Finish(test, history);
        recorder?.Finish("finished", result.Test.Loss, result.Test.Accuracy);
        o.WriteLine($"Test accuracy: {CommonOptions.F(100 * result.Test.Accuracy, 1)} %  (loss {CommonOptions.F(result.Test.Loss, 4)})");
        return result;
    }

    /// <summary>The --json line: both phases' accuracies, every epoch, and the timings.</summary>
    private static JsonObject Json(List<RunResult> results, ulong seed, string gemm, double uploadSeconds)
    {
        var epochs = new JsonArray();
        for (int p = 0; p < results.Count; p++)
            foreach (var m in results[p].History)
                epochs.Add(new JsonObject { ["phase"] = Phases[p].Name, ["train_loss"] = Math.Round(m.TrainLoss, 6), ["seconds"] = Math.Round(m.Seconds, 4) });
        var json = new JsonObject
        {
            ["sgd_accuracy"] = Math.Round(100 * results[0].Test.Accuracy, 2),
            ["adam_accuracy"] = Math.Round(100 * results[1].Test.Accuracy, 2),
            ["train_seconds"] = Math.Round(results.Sum(r => r.TrainSeconds), 3),
            ["test_seconds"] = Math.Round(results.Sum(r => r.Test.Seconds), 3),
            ["total_seconds"] = Math.Round(ProcessSeconds(), 3),
            ["seed"] = seed,
            ["gemm"] = gemm,
            ["device"] = results[^1].Device,
            ["upload_seconds"] = Math.Round(uploadSeconds, 3),
            ["epochs"] = epochs,
        };
        RunSetup.AddThreads(json);
        return json;
    }

    /// <summary>Seconds since the process started, runtime start-up included.</summary>
    internal static double ProcessSeconds() => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds;
}
