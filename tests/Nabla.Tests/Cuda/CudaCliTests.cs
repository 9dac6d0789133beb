using System.Text.Json;
using Nabla.Cli;
using Nabla.Compute;
using Nabla.Training;

namespace Nabla.Tests.Cuda;

/// <summary>
/// <c>nabla train --device cuda</c> end to end on the simulator: the same run as <c>--device cpu</c> (same
/// accuracy, loss to 1e-5), and the device is named in the output.
/// </summary>
[Collection("Cuda")]
public sealed class CudaCliTests(SimulatorFixture sim)
{
    private static void WriteCsv(string path, int rows, int seed)
    {
        var rng = new Nabla.Tensors.Rng((ulong)seed);
        var lines = new List<string> { "label," + string.Join(',', Enumerable.Range(1, 16).Select(i => $"pixel{i}")) };
        for (int r = 0; r < rows; r++)
        {
            int label = r % 3;
            lines.Add(label + "," + string.Join(',', Enumerable.Range(0, 16).Select(j => (j / 5 == label ? 150 : 60) + rng.NextInt(80))));
        }
        File.WriteAllLines(path, lines);
    }

    private static (int Code, string Out, string Err) Train(string dir, string device, params string[] extra)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        // The test's context asks for the simulator; the command's own context inherits that choice.
        using var context = ComputeContext.Begin(new ComputeSettings { Threads = 1, SimulateCuda = true });
        int code = Program.Run(["train", "--dataset", "csv", "--data", dir, "--hidden", "8", "--epochs", "3", "--batch-size", "16",
            "--optimizer", "adam", "--lr", "0.01", "--threads", "1", "--device", device, "--json", .. extra], o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Train_on_cuda_matches_train_on_cpu()
    {
        using var dir = new Nabla.Tests.Testing.TempDir();
        WriteCsv(dir.File("t_train.csv"), 96, 1);
        WriteCsv(dir.File("t_test.csv"), 30, 2);
        var cpu = Train(dir.Path, "cpu");
        var cuda = Train(dir.Path, "cuda", "--save", dir.File("m.safetensors"));
        Assert.True(cpu.Code == 0, cpu.Err);
        Assert.True(cuda.Code == 0, cuda.Err);
        Assert.Contains("Using device: cuda:0", cuda.Out);
        using var a = JsonDocument.Parse(cpu.Out.Trim().Split('\n')[^1]);
        using var b = JsonDocument.Parse(cuda.Out.Trim().Split('\n')[^1]);
        Assert.Equal(a.RootElement.GetProperty("test_accuracy").GetDouble(), b.RootElement.GetProperty("test_accuracy").GetDouble());
        Assert.Equal(a.RootElement.GetProperty("test_loss").GetDouble(), b.RootElement.GetProperty("test_loss").GetDouble(), 1e-5);
        var ea = a.RootElement.GetProperty("epochs");
        var eb = b.RootElement.GetProperty("epochs");
        for (int i = 0; i < 3; i++)
            Assert.Equal(ea[i].GetProperty("train_loss").GetDouble(), eb[i].GetProperty("train_loss").GetDouble(), 1e-5);
        Assert.True(File.Exists(dir.File("m.safetensors"))); // the trained weights came back to the host and were saved
    }

    [Fact]
    public void Train_with_dropout_runs_on_cuda()
    {
        using var dir = new Nabla.Tests.Testing.TempDir();
        WriteCsv(dir.File("t_train.csv"), 96, 1);
        WriteCsv(dir.File("t_test.csv"), 30, 2);
        var run = Train(dir.Path, "cuda", "--dropout", "0.2", "--val-split", "0.25");
        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("Using device: cuda:0", run.Out);
        using var doc = JsonDocument.Parse(run.Out.Trim().Split('\n')[^1]);
        Assert.True(doc.RootElement.GetProperty("epochs")[0].TryGetProperty("val_loss", out _));
    }

    [Fact]
    public void Checkpoint_every_n_steps_is_refused_on_cuda_with_the_reason()
    {
        using var dir = new Nabla.Tests.Testing.TempDir();
        WriteCsv(dir.File("t_train.csv"), 48, 1);
        WriteCsv(dir.File("t_test.csv"), 12, 2);
        var run = Train(dir.Path, "cuda", "--checkpoint", dir.File("ckpt"), "--checkpoint-every", "2");
        Assert.Equal(2, run.Code);
        Assert.StartsWith("nabla: error: --checkpoint-every: on CUDA", run.Err);
        Assert.DoesNotContain("   at ", run.Err);
    }

    [Fact]
    public void Auto_keeps_a_model_cuda_cannot_run_on_the_cpu_and_cuda_refuses_it()
    {
        // Class weights: a loss the CUDA step (plain cross-entropy fused with softmax) does not compute.
        var data = new Nabla.Data.TensorDataset([.. Enumerable.Range(0, 32).Select(i => (float)(i % 7))], [.. Enumerable.Range(0, 8).Select(i => i % 2)], 4, ["a", "b"]);
        var run = TrainingRun.Create(new TrainConfig { Hidden = [3], ClassWeight = ClassWeighting.Balanced, BatchSize = 2 }, data);
        string? why = run.UseDevice(sim.Backend, required: false);
        Assert.Null(run.Trainer.Accelerator);
        Assert.Contains("cross-entropy", why);
        Assert.Contains("class weights", why);
        var e = Assert.Throws<NotSupportedException>(() => run.UseDevice(sim.Backend, required: true));
        Assert.Null(run.Trainer.Accelerator);
        var plain = TrainingRun.Create(new TrainConfig { Hidden = [3], BatchSize = 2 }, data);
        Assert.Null(plain.UseDevice(sim.Backend, required: true));
        Assert.NotNull(plain.Trainer.Accelerator);
    }
}

/// <summary><c>nabla devices</c> says what --device auto picks, and --check refuses clearly without a GPU.</summary>
[Collection("Cuda")] // the command opens cuda:0, where the simulator fixture is registered
public sealed class DevicesCommandTests(SimulatorFixture sim)
{
    [Fact]
    public void Devices_json_names_the_cpu_and_the_auto_choice()
    {
        var o = new StringWriter();
        Assert.Equal(0, Program.Run(["devices", "--json"], o, new StringWriter()));
        // The device the command opened lived in its own context: the fixture's cuda:0 is still the one registered here.
        Assert.True(ComputeContext.Current.Backends.TryGet(sim.Backend.Device, out var registered));
        Assert.Same(sim.Backend, registered);
        using var doc = JsonDocument.Parse(o.ToString().Trim());
        Assert.StartsWith("cpu:", doc.RootElement.GetProperty("cpu").GetString());
        bool cuda = Nabla.Cuda.CudaBackend.IsAvailable(out _);
        Assert.Equal(cuda, doc.RootElement.GetProperty("cuda_available").GetBoolean());
        Assert.Equal(cuda ? "cuda:0" : "cpu", doc.RootElement.GetProperty("auto").GetString());
    }

    [SkippableFact]
    public void Check_without_a_gpu_is_a_usage_error()
    {
        Skip.If(Nabla.Cuda.CudaBackend.IsAvailable(out _), "This machine has a CUDA GPU.");
        var e = new StringWriter();
        Assert.Equal(2, Program.Run(["devices", "--check"], new StringWriter(), e));
        Assert.StartsWith("nabla: error: --check needs a CUDA device", e.ToString());
    }
}
