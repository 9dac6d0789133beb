using System.Globalization;
using System.Text.Json;
using Nabla.Cli;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Tensors;
using Nabla.Tests.Testing;
using Nabla.Training;
using static Nabla.Tests.Testing.CliRunner;

namespace Nabla.Tests.Cli;

/// <summary>Regression: numeric targets, a linear output layer and the mean squared error, from the library and the CLI.</summary>
[Collection("Serial")]
public class RegressionTests
{

    /// <summary>price = 3a − 2b + sin c + 10 and area = a·b, with a, b, c uniform in [−2, 2]: smooth targets a small MLP fits.</summary>
    private static void Table(string path, int n, ulong seed)
    {
        var rng = new Rng(seed);
        var lines = new List<string> { "a,b,c,price,area" };
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        for (int i = 0; i < n; i++)
        {
            double a = 4 * rng.NextDouble() - 2, b = 4 * rng.NextDouble() - 2, c = 4 * rng.NextDouble() - 2;
            lines.Add(string.Join(',', F(a), F(b), F(c), F(3 * a - 2 * b + Math.Sin(c) + 10), F(a * b)));
        }
        File.WriteAllLines(path, lines);
    }

    private static JsonElement LastJson(string output) => JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;

    [Fact]
    public void TwoTargets_TrainEvalPredict_FitWell()
    {
        using var dir = new TempDir();
        Table(dir.File("r_train.csv"), 800, 1);
        Table(dir.File("r_test.csv"), 200, 2);
        string model = dir.File("m.safetensors");
        var r = Run("train", "--task", "regression", "--dataset", "csv", "--data", dir.Path, "--label-column", "price,area",
            "--hidden", "32", "--epochs", "40", "--lr", "0.01", "--threads", "1", "--device", "cpu", "--save", model, "--json",
            "--plot", dir.File("plots"), "--log", dir.File("log.csv"));
        Assert.True(r.Code == 0, r.Err);
        var trained = LastJson(r.Out);
        Assert.Equal("regression", trained.GetProperty("task").GetString());
        Assert.False(trained.TryGetProperty("test_accuracy", out _));
        double r2 = trained.GetProperty("test_r2").GetDouble();
        Assert.True(r2 > 0.85, $"R² {r2}");
        Assert.True(File.Exists(dir.File("plots/regression.png")));
        Assert.False(File.Exists(dir.File("plots/accuracy.png")));
        // No accuracy columns for a regression: empty, not 0.
        Assert.StartsWith("1,", File.ReadAllLines(dir.File("log.csv"))[1]);
        Assert.Contains(",,", File.ReadAllLines(dir.File("log.csv"))[1]);

        r = Run("eval", model, "--data", dir.Path, "--json");
        Assert.True(r.Code == 0, r.Err);
        var evaluated = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal(trained.GetProperty("test_rmse").GetDouble(), evaluated.GetProperty("test_rmse").GetDouble(), 5);
        Assert.Equal(["price", "area"], evaluated.GetProperty("per_target").EnumerateArray().Select(t => t.GetProperty("target").GetString()!));

        // Columns by name, in any order; the targets' columns are not needed.
        File.WriteAllLines(dir.File("rows.csv"), ["c,b,a", "0,0,0", "0,1,1"]);
        r = Run("predict", model, dir.File("rows.csv"), "--json");
        Assert.True(r.Code == 0, r.Err);
        var rows = JsonDocument.Parse(r.Out).RootElement.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(2, rows.Length);
        double price0 = rows[0].GetProperty("values").GetProperty("price").GetDouble(), price1 = rows[1].GetProperty("values").GetProperty("price").GetDouble();
        Assert.InRange(price0, 9, 11);        // 10
        Assert.InRange(price1, 10, 12);       // 3 − 2 + 10 = 11
        Assert.InRange(rows[1].GetProperty("values").GetProperty("area").GetDouble(), 0.4, 1.6); // 1

        r = Run("predict", model, dir.File("x.png"));
        Assert.Equal(2, r.Code);
        Assert.Contains("predicts from table rows of 3 features (a, b, c), not images", r.Err);

        r = Run("summary", model);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("Targets: price, area", r.Out);

        // ONNX: the output is the values (no softmax), and ONNX Runtime computes what predict printed.
        r = Run("export", model, "--onnx", dir.File("m.onnx"), "--softmax");
        Assert.Equal(2, r.Code);
        Assert.Contains("regression model", r.Err);
        r = Run("export", model, "--onnx", dir.File("m.onnx"));
        Assert.True(r.Code == 0, r.Err);
        var loaded = Nabla.IO.ModelFile.Load(model);
        var x = new float[] { 0, 0, 0, 1, 1, 0 }; // the rows above in the model's column order (a, b, c); unscaled, as the model was trained (--scale none)
        var spec = JsonDocument.Parse(loaded.Metadata["nabla.input"]).RootElement;
        Assert.Equal(["a", "b", "c"], spec.GetProperty("features").EnumerateArray().Select(f => f.GetString()!));
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(dir.File("m.onnx"));
        Assert.Equal("values", session.OutputMetadata.Keys.Single());
        var expected = loaded.Model.PredictValues(Nabla.Tensors.Tensor.FromArray((float[])x.Clone(), 2, 3)).ToArray();
        using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(x, [2, 3]);
        using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), ["input"], [input], ["values"]);
        var got = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], got[i], 4);
    }

    [Fact]
    public void RegressionOnImages_OrClassificationOfNumericTargets_OneLineErrors()
    {
        var r = Run("train", "--task", "regression", "--dataset", "mnist", "--epochs", "1");
        Assert.Equal(2, r.Code);
        Assert.Contains("--dataset csv", r.Err);
        Assert.DoesNotContain("   at ", r.Err);

        r = Run("train", "--task", "regresion");
        Assert.Equal(2, r.Code);
        Assert.Contains("--task", r.Err);

        using var dir = new TempDir();
        Table(dir.File("r_train.csv"), 50, 1);
        Table(dir.File("r_test.csv"), 20, 2);
        File.WriteAllText(dir.File("r_test.csv"), File.ReadAllText(dir.File("r_test.csv")) + "1,2,3,oops,4\n");
        r = Run("train", "--task", "regression", "--dataset", "csv", "--data", dir.Path, "--label-column", "price", "--epochs", "1", "--device", "cpu");
        Assert.Equal(1, r.Code);
        Assert.Contains("'oops' is not a number", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [Fact]
    public void Resume_RefusesADifferentTask_AndOtherTargets()
    {
        using var dir = new TempDir();
        Table(dir.File("r_train.csv"), 100, 1);
        Table(dir.File("r_test.csv"), 20, 2);
        var r = Run("train", "--task", "regression", "--dataset", "csv", "--data", dir.Path, "--label-column", "price", "--epochs", "1",
            "--threads", "1", "--device", "cpu", "--checkpoint", dir.File("ck"), "-q");
        Assert.True(r.Code == 0, r.Err);
        string ck = dir.File("ck/last.safetensors");
        r = Run("train", "--task", "classification", "--dataset", "csv", "--data", dir.Path, "--resume", ck, "--epochs", "2", "--device", "cpu");
        Assert.Equal(2, r.Code);
        Assert.Contains("--task", r.Err);
        r = Run("train", "--dataset", "csv", "--data", dir.Path, "--label-column", "price", "--resume", ck, "--epochs", "2", "--threads", "1", "--device", "cpu", "-q");
        Assert.True(r.Code == 0, r.Err);
        Assert.StartsWith("Test RMSE", r.Out.Trim());
        // Other targets: the fingerprint, which hashes them, differs.
        Table(dir.File("r_train.csv"), 100, 7);
        r = Run("train", "--dataset", "csv", "--data", dir.Path, "--label-column", "price", "--resume", ck, "--epochs", "3", "--device", "cpu");
        Assert.Equal(1, r.Code);
    }

    /// <summary>The fused MSE backward (explicit engine) and autograd give the same gradients on a regression batch.</summary>
    [Fact]
    public void ExplicitAndAutogradEngines_AgreeOnMseGradients()
    {
        const int batch = 16, features = 5, outputs = 3;
        var rng = new Rng(3);
        var x = new float[batch * features];
        var t = new float[batch * outputs];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextGaussian();
        for (int i = 0; i < t.Length; i++) t[i] = (float)rng.NextGaussian();
        Sequential Model() => new MlpArchitecture(features, [8, 6], ActivationKind.Tanh, outputs).Create(new Rng(11));
        var a = Model();
        var b = Model();
        float la = new ExplicitEngine(a, new MseLoss(), features, batch).RunRegression(x, t, batch, backward: true);
        float lb = new AutogradEngine(b, new MseLoss(), features, batch).RunRegression(x, t, batch, backward: true);
        Assert.Equal(lb, la, 5);
        var pa = a.Parameters().ToArray();
        var pb = b.Parameters().ToArray();
        for (int i = 0; i < pa.Length; i++)
        {
            var ga = pa[i].Grad!.Data.ToArray();
            var gb = pb[i].Grad!.Data.ToArray();
            for (int j = 0; j < ga.Length; j++) Assert.Equal(gb[j], ga[j], 5);
        }
    }

    /// <summary>The library path: a Trainer with MseLoss on a RegressionDataset learns y = 2x − 1.</summary>
    [Fact]
    public void Trainer_WithMseLoss_FitsALine()
    {
        var rng = new Rng(5);
        const int n = 256;
        var x = new float[n];
        var y = new float[n];
        for (int i = 0; i < n; i++) (x[i], y[i]) = ((float)(2 * rng.NextDouble() - 1), 0);
        for (int i = 0; i < n; i++) y[i] = 2 * x[i] - 1;
        var data = new RegressionDataset(x, y, 1, ["y"]);
        var model = new MlpArchitecture(1, [16], ActivationKind.Tanh, 1).Create(new Rng(1));
        var trainer = new Trainer(model, new MseLoss(), new Nabla.Optim.Adam(model.Parameters(), lr: 0.02f), 1, 32);
        trainer.Fit(new DataLoader(data, 32, new RandomSampler(new Rng(2))), 60);
        var fit = RegressionReport.Evaluate(model, data, data.TargetNames);
        Assert.True(fit.OverallRmse < 0.05, $"RMSE {fit.OverallRmse}");
        Assert.True(fit.OverallR2 > 0.99, $"R² {fit.OverallR2}");
    }

    [Fact]
    public void ReadRegression_Headerless_TargetsByIndex_AndItsErrors()
    {
        using var dir = new TempDir();
        string path = dir.File("t.csv");
        File.WriteAllLines(path, ["1,2,3", "", "4,5,6"]);
        var (data, features, targets) = CsvDataset.ReadRegression(path, new CsvOptions("-1,0"));
        Assert.Equal(["y0", "y1"], targets);
        Assert.Equal(["x1"], features);
        Assert.Equal(2, data.Count);
        var t = new float[4];
        data.GatherTargets([0, 1], t);
        Assert.Equal([3f, 1f, 6f, 4f], t);

        Assert.Contains("every column is a target", Assert.Throws<DataFormatException>(() => CsvDataset.ReadRegression(path, new CsvOptions("0,1,2"))).Message);
        Assert.Contains("named twice", Assert.Throws<DataFormatException>(() => CsvDataset.ReadRegression(path, new CsvOptions("1,1"))).Message);
        File.AppendAllLines(path, ["7,8"]);
        Assert.Contains("line 4 has 2 values", Assert.Throws<DataFormatException>(() => CsvDataset.ReadRegression(path, new CsvOptions("0"))).Message);
    }
}
