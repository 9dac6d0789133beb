using Nabla.Cli.Dashboard;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Tests.Testing;
using Nabla.Training;

namespace Nabla.Tests.Dashboard;

/// <summary>The recorder's hot path: a training step with --dashboard allocates nothing either.</summary>
[Collection("Serial")]
public class RunRecorderTests
{
    [Fact]
    public void RecordingSteps_AllocatesNothing_SampledOrNot()
    {
        using var dir = new TempDir();
        var model = new MlpArchitecture(16, [8], ActivationKind.Sigmoid, 3).Create(new Rng(1));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters()), 16, 4);
        var x = new float[4 * 16];
        var y = new[] { 0, 1, 2, 0 };
        trainer.Step(x, y, 4); // gradients exist, as after any step
        var info = new RunInfo("t", "test", "16-8-3 sigmoid", "Adam", 1e-3f, 4, 1, 100, "none", ["a", "b", "c"], null);
        var recorder = new RunRecorder(dir.Path, info, model, null);
        for (int b = 1; b <= 100; b++) recorder.OnStepEnd(trainer, 0, b); // warm-up: every path taken once
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int b = 1; b <= 100; b++) recorder.OnStepEnd(trainer, 0, b); // 100 steps, 50 of them sampled (stride 2)
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        recorder.Dispose(); // step lines reach the file at most twice a second; closing writes the rest (and an end line)
        var lines = File.ReadAllLines(dir.File("events.jsonl")).Where(l => l.Contains("\"type\":\"step\"", StringComparison.Ordinal)).ToArray();
        Assert.Equal(100, lines.Length); // 2 × 50 sampled steps
        Assert.Contains("\"grad_norms\":[", lines[^1]);
    }
}
