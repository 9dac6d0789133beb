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
    public static Command Create(TextWriter stdout, TextWriter stderr)
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
        cmd.SetAction(r => Run(r.GetValue(data), r.GetValue(device)!, r.GetValue(threads), r.GetValue(gemm)!, r.GetValue(json), r.GetValue(seed),
            OutputPaths.File(r.GetValue(save), "--save"), dashboard.Read(r), stdout));
        return cmd;
    }

    private static int Run(string? dataDir, DeviceChoice device, int threads, string gemm, bool json, ulong seed, string? save,
        DashboardSettings dashboard, TextWriter o)
    {
        using var gpu = CommonOptions.SetUp(threads, device, gemm, o);
        using var session = DashboardSession.Start(dashboard, "seed", o);
        const int batch = 32;
        if (gpu is null) DataSets.WarmUp("fashion-mnist", [32], ActivationKind.Sigmoid, 0f, batch, [OptimizerKind.Sgd, OptimizerKind.Adam]);
        var loadClock = Stopwatch.StartNew();
        var (train, test, source) = DataSets.Load("fashion-mnist", dataDir);
        o.WriteLine($"Fashion-MNIST: {train.Count:N0} training and {test.Count:N0} test images from {source} ({CommonOptions.F(loadClock.Elapsed.TotalSeconds, 2)} s)");

        var architecture = new MlpArchitecture(train.Features, [32], ActivationKind.Sigmoid, train.Classes);
        var seeds = new RunSeeds(seed);
        var model = architecture.Create(seeds.Weights());
        var trainLoader = DataLoader.Shuffled(train, batch, seeds.Shuffle());
        var testLoader = new DataLoader(test, batch);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), new SgdOptions(1e-3f)), train.Features, batch);
        CommonOptions.Accelerate(trainer, gpu, device, train.Features, batch, o);
        o.WriteLine(model);

        var epochs = new JsonArray();
        double trainSeconds = 0;
        void Report(string phase, EpochMetrics m, int of)
        {
            trainSeconds += m.Seconds;
            o.WriteLine($"[{phase}] Epoch {m.Epoch}/{of}  loss {CommonOptions.F(m.TrainLoss, 4)}  accuracy {CommonOptions.F(100 * m.TrainAccuracy, 1)} %  {CommonOptions.F(m.Seconds, 3)} s  {m.SamplesPerSecond:N0} samples/s");
            epochs.Add(new JsonObject { ["phase"] = phase, ["train_loss"] = Math.Round(m.TrainLoss, 6), ["seconds"] = Math.Round(m.Seconds, 4) });
        }

        // The dashboard shows the two phases as two runs, Adam's epochs continuing SGD's on the x axis.
        string plan = RunInfo.Describe(model, train.Features);
        var size = TrainCommand.ImageSize(test);
        var sgdRun = session?.Record("sgd", new RunInfo("sgd", "seed", plan, "SGD", 1e-3f, batch, 10, trainLoader.BatchCount, "fashion-mnist", train.ClassNames, size), model, test);

        o.WriteLine("SGD (lr = 1e-3), batch 32, 10 epochs");
        trainer.TrainingLoop(trainLoader, 10, m => Report("sgd", m, 10), [.. sgdRun is null ? [] : new ITrainingCallback[] { sgdRun }]);
        var sgd = trainer.Test(testLoader);
        sgdRun?.Finish("finished", sgd.Loss, sgd.Accuracy);
        o.WriteLine($"Test accuracy: {CommonOptions.F(100 * sgd.Accuracy, 1)} %  (loss {CommonOptions.F(sgd.Loss, 4)})");

        o.WriteLine("Adam (defaults), same model, 3 epochs");
        trainer.Optimizer = new Adam(model.Parameters());
        int before = trainer.EpochCount;
        var adamRun = session?.Record("adam", new RunInfo("adam", "seed", plan, "Adam", trainer.Optimizer.LearningRate, batch, 3, trainLoader.BatchCount, "fashion-mnist", train.ClassNames, size)
            { EpochOffset = before, TrainerEpochBase = before }, model, test);
        trainer.TrainingLoop(trainLoader, 3, m => Report("adam", m with { Epoch = m.Epoch - before }, 3), [.. adamRun is null ? [] : new ITrainingCallback[] { adamRun }]);
        var adam = trainer.Test(testLoader);
        adamRun?.Finish("finished", adam.Loss, adam.Accuracy);
        if (trainer.HasDiverged(adam.Loss))
            throw new TrainingDivergedException($"The test loss is {adam.Loss}: training diverged.");
        o.WriteLine($"Test accuracy: {CommonOptions.F(100 * adam.Accuracy, 1)} %  (loss {CommonOptions.F(adam.Loss, 4)})");
        if (save is not null)
        {
            IO.ModelFile.Save(save, model, train.ClassNames, metadata: InputSpec.Image(((Data.ImageDataset)train).Height, ((Data.ImageDataset)train).Width, "fashion-mnist").ToMetadata());
            o.WriteLine($"Saved the model to {save}");
        }

        if (json)
        {
            var obj = new JsonObject
            {
                ["sgd_accuracy"] = Math.Round(100 * sgd.Accuracy, 2),
                ["adam_accuracy"] = Math.Round(100 * adam.Accuracy, 2),
                ["train_seconds"] = Math.Round(trainSeconds, 3),
                ["test_seconds"] = Math.Round(sgd.Seconds + adam.Seconds, 3),
                ["total_seconds"] = Math.Round(ProcessSeconds(), 3),
                ["seed"] = seed,
                ["threads"] = threads,
                ["gemm"] = gemm,
                ["device"] = trainer.Accelerator?.Description ?? "cpu",
                ["upload_seconds"] = trainer.Accelerator is Cuda.Training.CudaAccelerator gpuRun ? Math.Round(gpuRun.DataUploadSeconds, 3) : 0,
                ["epochs"] = epochs,
            };
            o.WriteLine(obj.ToJsonString());
        }
        session?.Complete();
        return 0;
    }

    /// <summary>Seconds since the process started, runtime start-up included.</summary>
    internal static double ProcessSeconds() => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds;
}
