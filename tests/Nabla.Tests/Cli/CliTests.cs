using System.Text.Json;
using Nabla.Cli;
using static Nabla.Tests.Testing.CliRunner;

namespace Nabla.Tests.Cli;

public class CliTests
{

    [Theory]
    [InlineData("train", "--lr", "-1")]
    [InlineData("train", "--batch-size", "0")]
    [InlineData("train", "--hidden", "abc")]
    [InlineData("train", "--hidden", "32,-4")]
    [InlineData("train", "--optimizer", "lion")]
    [InlineData("train", "--epochs", "x")]
    [InlineData("train", "--dropout", "1.5")]
    [InlineData("seed", "--threads", "0")]
    [InlineData("seed", "--threads", "many")]
    [InlineData("train", "--threads", "99999")]
    [InlineData("train", "--checkpoint-every", "-1")]
    [InlineData("seed", "--device", "tpu")]
    [InlineData("nosuchcommand")]
    public void BadValue_UsageErrorExit2_NoStackTrace(params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("nabla: error:", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void EarlyStoppingWithoutValidation_UsageError()
    {
        var (code, _, err) = Run("train", "--early-stopping", "3", "--data", "/nonexistent");
        Assert.Equal(2, code);
        Assert.Contains("--val-split", err);
    }

    [Theory]
    [InlineData]
    [InlineData("backprop")]
    [InlineData("seed")]
    [InlineData("train")]
    [InlineData("eval")]
    [InlineData("summary")]
    [InlineData("export")]
    [InlineData("predict")]
    [InlineData("compare")]
    public void Help_EveryCommand_Exit0(params string[] command)
    {
        var (code, output, _) = Run([.. command, "--help"]);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", output);
    }

    [Fact]
    public void MissingDataset_Exit1_OneLineMessage()
    {
        var (code, _, err) = Run("seed", "--data", "/nonexistent/fm", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/fm does not hold the Fashion-MNIST files", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [SkippableFact]
    public void DeviceCuda_WithoutGpu_ClearMessage()
    {
        Skip.If(Nabla.Cuda.CudaBackend.IsAvailable(out _), "This machine has a CUDA GPU: --device cuda would run.");
        var (code, _, err) = Run("seed", "--device", "cuda");
        Assert.Equal(2, code);
        Assert.Contains("no CUDA device", err);
        Assert.Contains("--device cpu", err);
    }

    [Fact]
    public void Backprop_Json_ReproducesTextbookNumbers()
    {
        var (code, output, _) = Run("backprop", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var r = doc.RootElement;
        double At(string key, int i, int j) => r.GetProperty(key)[i][j].GetDouble();
        Assert.Equal(0.7311, r.GetProperty("z1")[0].GetDouble(), 4);
        Assert.Equal(0.8119, r.GetProperty("z2")[1].GetDouble(), 4);
        Assert.Equal(0.2084, r.GetProperty("loss").GetDouble(), 4);
        foreach (var engine in new[] { "autograd", "explicit" })
        {
            Assert.Equal(-0.1110, At($"grad_W0_{engine}", 0, 0), 4);
            Assert.Equal(0.1110, At($"grad_W0_{engine}", 0, 2), 4);
            Assert.Equal(0.0370, At($"grad_W0_{engine}", 1, 0), 4);
            Assert.Equal(-0.0370, At($"grad_W0_{engine}", 1, 2), 4);
            Assert.Equal(0.1375, At($"grad_W1_{engine}", 0, 1), 4);
            Assert.Equal(-0.1375, At($"grad_W1_{engine}", 1, 0), 4);
        }
    }

    [Fact]
    public void Backprop_Human_PrintsTextbookLayout()
    {
        var (code, output, _) = Run("backprop");
        Assert.Equal(0, code);
        Assert.Contains("z1 = tensor([ 0.7311,  0.7311]", output);
        Assert.Contains("z2 = tensor([ 0.1881,  0.8119]", output);
        Assert.Contains("f  = tensor( 0.2084", output);
        Assert.Contains("[ 0.1375,  0.1375, -0.1375, -0.1375]", output);
    }
}

public class TrainCommandTests
{
    /// <summary>Writes a small separable CSV dataset (Kaggle layout: label, then pixel values 0–255).</summary>
    private static void WriteCsv(string path, int rows, int seed)
    {
        var rng = new Nabla.Tensors.Rng((ulong)seed);
        var lines = new List<string> { "label," + string.Join(',', Enumerable.Range(1, 16).Select(i => $"pixel{i}")) };
        for (int r = 0; r < rows; r++)
        {
            int label = r % 3;
            var pixels = Enumerable.Range(0, 16).Select(j => (j / 5 == label ? 200 : 20) + rng.NextInt(40));
            lines.Add(label + "," + string.Join(',', pixels));
        }
        File.WriteAllLines(path, lines);
    }

    [Fact]
    public void Train_CsvWithValidationDropoutAndEarlyStopping_JsonParses()
    {
        using var dir = new Nabla.Tests.Testing.TempDir();
        WriteCsv(dir.File("my_train.csv"), 300, 1);
        WriteCsv(dir.File("my_test.csv"), 60, 2);
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Program.Run(["train", "--dataset", "csv", "--data", dir.Path, "--hidden", "16,8", "--activation", "relu",
            "--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9", "--dropout", "0.1", "--val-split", "0.2",
            "--early-stopping", "2", "--epochs", "40", "--batch-size", "16", "--l1", "1e-5", "--threads", "1", "--scale", "255", "--json"], o, e);
        Assert.True(code == 0, e.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(o.ToString().Trim().Split('\n')[^1]);
        var r = doc.RootElement;
        Assert.True(r.GetProperty("test_accuracy").GetDouble() > 90, o.ToString());
        var epochs = r.GetProperty("epochs");
        Assert.InRange(epochs.GetArrayLength(), 1, 40);
        Assert.True(epochs[0].TryGetProperty("val_loss", out _));
        Assert.True(epochs[0].GetProperty("seconds").GetDouble() >= 0);
        Assert.True(r.GetProperty("total_seconds").GetDouble() > 0);
    }

    [Fact]
    public void TrainSaveThenSummaryAndEval_JsonOutputsAgree()
    {
        using var dir = new Nabla.Tests.Testing.TempDir();
        WriteCsv(dir.File("a_train.csv"), 240, 3);
        WriteCsv(dir.File("a_test.csv"), 60, 4);
        string model = dir.File("out/model.safetensors");
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(0, Program.Run(["train", "--dataset", "csv", "--data", dir.Path, "--hidden", "8", "--epochs", "15", "--lr", "0.01",
            "--dropout", "0.1", "--threads", "1", "--json", "--save", model], o, e));
        double trained;
        using (var doc = System.Text.Json.JsonDocument.Parse(o.ToString().Trim().Split('\n')[^1]))
            trained = doc.RootElement.GetProperty("test_accuracy").GetDouble();

        o = new StringWriter();
        Assert.Equal(0, Program.Run(["eval", model, "--dataset", "csv", "--data", dir.Path, "--json"], o, e));
        using (var doc = System.Text.Json.JsonDocument.Parse(o.ToString().Trim().Split('\n')[^1]))
        {
            Assert.Equal(trained, doc.RootElement.GetProperty("test_accuracy").GetDouble());
            Assert.Equal(60, doc.RootElement.GetProperty("confusion_matrix").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(v => v.GetInt32()));
            Assert.Equal(3, doc.RootElement.GetProperty("per_class").GetArrayLength());
        }

        o = new StringWriter();
        Assert.Equal(0, Program.Run(["summary", model, "--json"], o, e));
        using (var doc = System.Text.Json.JsonDocument.Parse(o.ToString().Trim()))
        {
            // Tables are standardized by default (the model starts with its preprocessing layer), with ReLU by default.
            Assert.Equal("16 columns → 16-8-3 relu, dropout 0.1", doc.RootElement.GetProperty("architecture").GetString());
            Assert.Equal(16 * 8 + 8 + 8 * 3 + 3, doc.RootElement.GetProperty("parameters").GetInt64());
            Assert.Equal(new FileInfo(model).Length, doc.RootElement.GetProperty("bytes_on_disk").GetInt64());
        }
        o = new StringWriter();
        Assert.Equal(0, Program.Run(["export", model, "--onnx", dir.File("m.onnx")], o, e));
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(dir.File("m.onnx")))
            Assert.Equal("logits", session.OutputMetadata.Keys.Single());

        o = new StringWriter();
        Assert.Equal(0, Program.Run(["eval", model, "--dataset", "csv", "--data", dir.Path], o, e));
        Assert.Contains("Confusion matrix", o.ToString());
        Assert.Contains("precision", o.ToString());
    }

    [Fact]
    public void Train_LogAndQuiet_WritesCsvAndOnlyTheResult()
    {
        using var dir = new Nabla.Tests.Testing.TempDir();
        WriteCsv(dir.File("a_train.csv"), 120, 5);
        WriteCsv(dir.File("a_test.csv"), 30, 6);
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(0, Program.Run(["train", "--dataset", "csv", "--data", dir.Path, "--epochs", "3", "--val-split", "0.2", "--quiet",
            "--log", dir.File("m.csv"), "--threads", "1"], o, e));
        Assert.StartsWith("Test accuracy:", o.ToString());
        Assert.Single(o.ToString().Trim().Split('\n'));
        var lines = File.ReadAllLines(dir.File("m.csv"));
        Assert.Equal(Nabla.Training.MetricsCsv.Header, lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.Equal(7, l.Split(',').Length));
        Assert.Equal("", lines[1].Split(',')[5]);          // test accuracy only on the last row
        Assert.NotEqual("", lines[3].Split(',')[5]);
        Assert.NotEqual("", lines[1].Split(',')[3]);       // validation loss on every row
    }

    [Fact]
    public void Compare_SameInitialWeights_OneRunPerOptimizer()
    {
        using var dir = new Nabla.Tests.Testing.TempDir();
        WriteCsv(dir.File("a_train.csv"), 120, 7);
        WriteCsv(dir.File("a_test.csv"), 30, 8);
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(0, Program.Run(["compare", "--optimizers", "sgd,adam,sgd", "--dataset", "csv", "--data", dir.Path, "--epochs", "2",
            "--threads", "1", "--json", "--plot", dir.File("p")], o, e));
        using (var chart = SkiaSharp.SKBitmap.Decode(Path.Combine(dir.File("p"), "optimizers.png"))) Assert.Equal(900, chart.Width);
        using var doc = System.Text.Json.JsonDocument.Parse(o.ToString().Trim().Split('\n')[^1]);
        var runs = doc.RootElement.GetProperty("runs");
        Assert.Equal(3, runs.GetArrayLength());
        // The same optimizer twice from the same weights and batch order gives the same losses, bit for bit.
        Assert.Equal(runs[0].GetProperty("train_loss").GetRawText(), runs[2].GetProperty("train_loss").GetRawText());
        Assert.NotEqual(runs[0].GetProperty("train_loss").GetRawText(), runs[1].GetProperty("train_loss").GetRawText());
        Assert.Equal(2, Program.Run(["compare", "--optimizers", "sgd,lion"], new StringWriter(), e));
    }

    [Fact]
    public void Summary_CorruptModel_Exit1OneLine()
    {
        using var dir = new Nabla.Tests.Testing.TempDir();
        File.WriteAllBytes(dir.File("bad.safetensors"), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var e = new StringWriter();
        Assert.Equal(1, Program.Run(["summary", dir.File("bad.safetensors")], new StringWriter(), e));
        Assert.Contains("exceeds the file", e.ToString());
        Assert.Single(e.ToString().Trim().Split('\n'));
    }

    [Fact]
    public void Train_CsvFolderWithoutFiles_Exit1WithMessage()
    {
        using var dir = new Nabla.Tests.Testing.TempDir();
        var e = new StringWriter();
        int code = Program.Run(["train", "--dataset", "csv", "--data", dir.Path], new StringWriter(), e);
        Assert.Equal(1, code);
        Assert.Contains("expected exactly one *train*.csv", e.ToString());
    }
}
