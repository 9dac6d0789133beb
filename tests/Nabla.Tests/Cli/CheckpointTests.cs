using System.Diagnostics;
using Nabla.Cli;
using Nabla.Data;
using Nabla.IO;
using Nabla.Tests.Testing;
using Nabla.Training;

namespace Nabla.Tests.Cli;

[Collection("Serial")]
public class CheckpointTests
{
    private static void WriteCsv(string path, int rows, int features, int seed)
    {
        var rng = new Nabla.Tensors.Rng((ulong)seed);
        var lines = new List<string>();
        for (int r = 0; r < rows; r++)
        {
            int label = r % 4;
            lines.Add(label + "," + string.Join(',', Enumerable.Range(0, features).Select(j => ((j % 4 == label ? 150 : 50) + rng.NextInt(100)).ToString())));
        }
        File.WriteAllLines(path, lines);
    }

    private static string[] TrainArgs(string data, params string[] extra) =>
        ["train", "--dataset", "csv", "--data", data, "--hidden", "32", "--dropout", "0.2", "--optimizer", "adam",
         "--epochs", "30", "--batch-size", "8", "--val-split", "0.1", "--seed", "5", "--threads", "2", .. extra];

    private static float[][] Weights(string path) => [.. SafeTensors.Read(path).Tensors.Select(t => t.Data)];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KilledMidEpochAndResumed_EndsWithTheUninterruptedWeights(bool earlyStopping)
    {
        using var dir = new TempDir();
        WriteCsv(dir.File("d_train.csv"), 900, 96, 1);
        WriteCsv(dir.File("d_test.csv"), 100, 96, 2);
        var err = new StringWriter();
        string[] stopping = earlyStopping ? ["--early-stopping", "4"] : [];
        Assert.True(Program.Run(TrainArgs(dir.Path, ["--save", dir.File("straight.safetensors"), .. stopping]), new StringWriter(), err) == 0, err.ToString());

        // The same run in a child process, checkpointing every step (slow on purpose), killed with SIGKILL mid-run.
        string ckpt = dir.File("ckpt");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var arg in TrainArgs(dir.Path, ["--checkpoint", ckpt, "--checkpoint-every", "1", .. stopping])) psi.ArgumentList.Add(arg);
        using (var child = Process.Start(psi)!)
        {
            string last = Path.Combine(ckpt, "last.safetensors");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(last) && clock.Elapsed < TimeSpan.FromSeconds(60) && !child.HasExited) Thread.Sleep(20);
            Thread.Sleep(400);
            Assert.False(child.HasExited, "the child finished before it could be killed; make its run longer");
            child.Kill(); // SIGKILL
            child.WaitForExit();
        }
        var state = Checkpoint.ReadState(Path.Combine(ckpt, "last.safetensors"));
        Assert.True(state.Epoch < 30);

        Assert.True(Program.Run(["train", "--dataset", "csv", "--data", dir.Path, "--threads", "1", "--resume", Path.Combine(ckpt, "last.safetensors"),
            "--checkpoint", ckpt, "--save", dir.File("resumed.safetensors")], new StringWriter(), err) == 0, err.ToString());
        var a = Weights(dir.File("straight.safetensors"));
        var b = Weights(dir.File("resumed.safetensors"));
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
        // A temporary file the kill left behind is gone once the resumed run checkpoints again.
        Assert.Empty(Directory.GetFiles(ckpt, ".*tmp*"));
        Assert.True(Checkpoint.ReadState(Path.Combine(ckpt, "last.safetensors")).Epoch <= 30);
    }

    [Fact]
    public void Resume_TruncatedCheckpoint_RefusedWithMessage()
    {
        using var dir = new TempDir();
        WriteCsv(dir.File("d_train.csv"), 200, 8, 1);
        WriteCsv(dir.File("d_test.csv"), 40, 8, 2);
        var err = new StringWriter();
        Assert.Equal(0, Program.Run(TrainArgs(dir.Path, "--checkpoint", dir.File("c")), new StringWriter(), err));
        string good = Path.Combine(dir.File("c"), "last.safetensors");
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(dir.File("cut.safetensors"), bytes[..(bytes.Length / 2)]);
        err = new StringWriter();
        Assert.Equal(1, Program.Run(["train", "--dataset", "csv", "--data", dir.Path, "--resume", dir.File("cut.safetensors")], new StringWriter(), err));
        Assert.Contains("cut.safetensors", err.ToString());
        Assert.Single(err.ToString().Trim().Split('\n'));
        Assert.Equal(30, Checkpoint.ReadState(good).Epoch); // the previous good checkpoint is untouched and complete
    }

    [Fact]
    public void Resume_ModelFileInsteadOfCheckpoint_SaysSo()
    {
        using var dir = new TempDir();
        var arch = new Nabla.NN.MlpArchitecture(8, [4], Nabla.NN.ActivationKind.Sigmoid, 4);
        ModelFile.Save(dir.File("m.safetensors"), arch.Create(new Nabla.Tensors.Rng(1)), arch, ["a", "b", "c", "d"]);
        var e = Assert.Throws<DataFormatException>(() => Checkpoint.ReadState(dir.File("m.safetensors")));
        Assert.Contains("not a Nabla training checkpoint", e.Message);
    }
}
