using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Nabla.Cli;
using Nabla.Data;
using Nabla.IO;
using Nabla.NN;
using Nabla.Tests.Testing;
using Tensor = Nabla.Tensors.Tensor;

namespace Nabla.Tests.Cli;

/// <summary>
/// Real tables end to end: the model carries its preprocessing (gaps, scaling, categories) into its file, into
/// <c>Predict</c> on raw rows, into <c>nabla predict</c> and into ONNX Runtime, all giving the same numbers; regression
/// targets in the hundreds train at the defaults; one file is enough (a recorded held-out split that eval redraws).
/// </summary>
[Collection("Serial")]
public class TabularModelTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static JsonElement LastJson(string output) => JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;

    private static readonly string[] Colours = ["red", "green", "blue"];

    /// <summary>
    /// A table a user might have: x1 (numbers with gaps, "NA" or empty), colour (text), size (codes 1–3, to be declared
    /// categorical), x2 (numbers far from 0), and the label: a class from colour and x1, or a price in the hundreds.
    /// </summary>
    private static void Table(string path, int rows, int seed, bool regression, string? extraColour = null)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder(regression ? "x1,colour,size,x2,price\n" : "x1,colour,size,x2,kind\n");
        for (int i = 0; i < rows; i++)
        {
            double x1 = rng.NextDouble() * 4 - 2, x2 = 1000 + 100 * rng.NextDouble();
            int c = rng.Next(3), size = 1 + rng.Next(3);
            string colour = extraColour is not null && i % 7 == 0 ? extraColour : Colours[c];
            string cell = i % 11 == 3 ? "NA" : i % 13 == 5 ? "" : x1.ToString("F4", CultureInfo.InvariantCulture);
            string label = regression
                ? (200 + 40 * x1 + 30 * (c == 0 ? 1 : 0) + 10 * size + (x2 - 1050) * 0.5 + rng.NextDouble()).ToString("F3", CultureInfo.InvariantCulture)
                : (c == 0 ? "A" : x1 > 0 ? "B" : "C");
            sb.Append(CultureInfo.InvariantCulture, $"{cell},{colour},{size},{x2:F2},{label}\n");
        }
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>The rows to predict, raw as a user has them: a header, gaps, a colour the training file never had.</summary>
    private static readonly string[] Rows =
    [
        "x1,colour,size,x2",
        "1.5,red,2,1010",
        "-1.2,green,1,1090.5",
        "NA,blue,3,1050",
        ",red,1,1020",
        "0.7,purple,2,1044",
        "0.1,,3,1001",
    ];

    /// <summary>ONNX Runtime on the raw rows: numbers in 'input' (NaN for gaps), each categorical column as strings.</summary>
    private static float[] OnnxOutputs(string onnx, out int width)
    {
        using var session = new InferenceSession(onnx);
        var rows = Rows.Skip(1).Select(r => r.Split(',')).ToArray();
        var numeric = new DenseTensor<float>([rows.Length, 2]);
        for (int r = 0; r < rows.Length; r++)
        {
            numeric[r, 0] = rows[r][0] is "NA" or "" ? float.NaN : float.Parse(rows[r][0], CultureInfo.InvariantCulture);
            numeric[r, 1] = float.Parse(rows[r][3], CultureInfo.InvariantCulture);
        }
        var colour = new DenseTensor<string>([rows.Length, 1]);
        var size = new DenseTensor<string>([rows.Length, 1]);
        for (int r = 0; r < rows.Length; r++) (colour[r, 0], size[r, 0]) = (rows[r][1], rows[r][2]);
        Assert.Equal(["input", "colour", "size"], session.InputMetadata.Keys);
        using var results = session.Run([
            NamedOnnxValue.CreateFromTensor("input", numeric),
            NamedOnnxValue.CreateFromTensor("colour", colour),
            NamedOnnxValue.CreateFromTensor("size", size),
        ]);
        var output = results.Single().AsTensor<float>();
        width = output.Dimensions[1];
        return [.. output];
    }

    [Fact]
    public void Classifier_OnnxRuntimeOnRawRows_EqualsPredict_EqualsTheLibrary()
    {
        using var dir = new TempDir();
        Table(dir.File("shop.csv"), 600, 1, regression: false);
        string model = dir.File("m.safetensors"), onnx = dir.File("m.onnx");
        var r = Run("train", "--data", dir.File("shop.csv"), "--label-column", "kind", "--categorical", "size", "--epochs", "60", "--threads", "1",
            "--device", "cpu", "--save", model, "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.True(LastJson(r.Out).GetProperty("test_accuracy").GetDouble() > 85, r.Out);

        File.WriteAllLines(dir.File("rows.csv"), Rows);
        r = Run("predict", model, dir.File("rows.csv"), "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("purple", r.Err); // the unseen colour: a warning, encoded as all zeros
        var predicted = JsonDocument.Parse(r.Out).RootElement.GetProperty("predictions").EnumerateArray()
            .Select(p => p.GetProperty("top").EnumerateArray().ToDictionary(t => t.GetProperty("class").GetString()!, t => t.GetProperty("probability").GetDouble()))
            .ToArray();

        Assert.Equal(0, Run("export", model, "--onnx", onnx, "--softmax").Code);
        var probabilities = OnnxOutputs(onnx, out int classes);
        var loaded = ModelFile.Load(model);
        for (int row = 0; row < predicted.Length; row++)
            foreach (var (name, p) in predicted[row])
                Assert.Equal(p, probabilities[row * classes + loaded.ClassNames.ToList().IndexOf(name)], 4);

        // The library: the loaded model's Predict on raw rows (codes from its columns) gives the same classes.
        var pre = ((ColumnTransformer)loaded.Model.Layers[0]).Preprocessor;
        var raw = Rows.Skip(1).SelectMany(line => pre.Encode(line.Split(','))).ToArray();
        var library = loaded.Model.PredictProba(Tensor.FromArray(raw, Rows.Length - 1, 4)).ToArray();
        for (int i = 0; i < library.Length; i++) Assert.Equal(probabilities[i], library[i], 5);
    }

    [Fact]
    public void Regression_TargetsInTheHundreds_TrainAtTheDefaults_AndOnnxEqualsPredict()
    {
        using var dir = new TempDir();
        Table(dir.File("prices.csv"), 800, 2, regression: true);
        string model = dir.File("m.safetensors"), onnx = dir.File("m.onnx");
        var r = Run("train", "--task", "regression", "--data", dir.File("prices.csv"), "--label-column", "price", "--categorical", "size",
            "--threads", "1", "--device", "cpu", "--save", model, "--json");
        Assert.True(r.Code == 0, r.Err);
        // A sixth of x1 is gaps (filled with the mean, so their part of the price is lost): R² near 0.8, not 1.
        Assert.True(LastJson(r.Out).GetProperty("test_r2").GetDouble() > 0.7, r.Out);

        // The model ends in its Rescaling: outputs in the targets' units, and the standardized loss near 1 at the start.
        var loaded = ModelFile.Load(model);
        var rescale = Assert.IsType<Rescaling>(loaded.Model.Layers[^1]);
        Assert.InRange(rescale.Offset[0], 150, 300);

        File.WriteAllLines(dir.File("rows.csv"), Rows);
        r = Run("predict", model, dir.File("rows.csv"), "--json");
        Assert.True(r.Code == 0, r.Err);
        var values = JsonDocument.Parse(r.Out).RootElement.GetProperty("predictions").EnumerateArray()
            .Select(p => p.GetProperty("values").GetProperty("price").GetDouble()).ToArray();
        Assert.Equal(0, Run("export", model, "--onnx", onnx).Code);
        var onnxValues = OnnxOutputs(onnx, out int width);
        Assert.Equal(1, width);
        for (int i = 0; i < values.Length; i++) Assert.Equal(values[i], onnxValues[i], 2);
        Assert.InRange(values[0], 200 + 40 * 1.5 + 30 + 20 + (1010 - 1050) * 0.5 - 15, 200 + 40 * 1.5 + 30 + 20 + (1010 - 1050) * 0.5 + 15);
    }

    [Fact]
    public void Regression_RawTargets_TrainWithoutTheOldAbsoluteGuard()
    {
        // Targets in the hundreds without standardization: a first MSE near 10⁵, far over the old absolute bound of
        // 10⁴. The relative guard lets it train (worse than standardized, but not stopped).
        using var dir = new TempDir();
        Table(dir.File("prices.csv"), 400, 3, regression: true);
        var r = Run("train", "--task", "regression", "--data", dir.File("prices.csv"), "--label-column", "price", "--target-scale", "none",
            "--epochs", "30", "--lr", "0.01", "--threads", "1", "--device", "cpu", "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.True(LastJson(r.Out).GetProperty("epochs")[0].GetProperty("train_loss").GetDouble() > 1e4);
    }

    [Fact]
    public void OneFile_IsSplit_Recorded_AndEvalRedrawsTheSameTestRows()
    {
        using var dir = new TempDir();
        Table(dir.File("shop.csv"), 500, 4, regression: false);
        string model = dir.File("m.safetensors");
        var r = Run("train", "--data", dir.File("shop.csv"), "--label-column", "kind", "--test-split", "0.25", "--epochs", "20",
            "--threads", "1", "--device", "cpu", "--save", model, "--json");
        Assert.True(r.Code == 0, r.Err);
        double trained = LastJson(r.Out).GetProperty("test_accuracy").GetDouble();
        var input = JsonDocument.Parse(ModelFile.Load(model).Metadata["nabla.input"]).RootElement.GetProperty("split");
        Assert.Equal(input.GetProperty("test_rows_hash").GetString(), LastJson(r.Out).GetProperty("split").GetProperty("test_rows_hash").GetString());
        int held = input.GetProperty("test_rows").GetInt32();
        Assert.InRange(held, 123, 127); // a quarter of each class, rounded
        Assert.Equal("shop.csv", input.GetProperty("file").GetString());

        r = Run("eval", model, "--data", dir.File("shop.csv"), "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(trained, LastJson(r.Out).GetProperty("test_accuracy").GetDouble(), 2);
        Assert.Equal(held, LastJson(r.Out).GetProperty("samples").GetInt32());

        // The split is stratified: each class keeps its share (±1 row).
        var labels = File.ReadAllLines(dir.File("shop.csv")).Skip(1).Select(l => l.Split(',')[^1]).ToArray();
        var perClass = JsonDocument.Parse(r.Out).RootElement.GetProperty("confusion_matrix").EnumerateArray().Select(row => row.EnumerateArray().Sum(v => v.GetInt32())).ToArray();
        var names = ModelFile.Load(model).ClassNames;
        for (int c = 0; c < names.Count; c++) Assert.InRange(perClass[c], labels.Count(l => l == names[c]) / 4.0 - 1, labels.Count(l => l == names[c]) / 4.0 + 1);

        // An edited file no longer redraws the split: refused, not evaluated on other rows.
        File.AppendAllText(dir.File("shop.csv"), "0.5,red,1,1000,A\n");
        var bad = Run("eval", model, "--data", dir.File("shop.csv"));
        Assert.Equal(1, bad.Code);
        Assert.Contains("changed since training", bad.Err);
    }

    [Fact]
    public void Gaps_ImputeNone_IsRefusedNamingRowAndColumn()
    {
        using var dir = new TempDir();
        Table(dir.File("shop.csv"), 100, 5, regression: false);
        var r = Run("train", "--data", dir.File("shop.csv"), "--label-column", "kind", "--impute", "none", "--epochs", "1", "--device", "cpu");
        Assert.Equal(1, r.Code);
        Assert.Matches("line [0-9]+, column 1 \\('x1'\\) is a gap", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [Fact]
    public void Summary_ListsTheInputColumns_AndWhatHappensToEach()
    {
        using var dir = new TempDir();
        Table(dir.File("shop.csv"), 200, 6, regression: false);
        string model = dir.File("m.safetensors");
        Assert.Equal(0, Run("train", "--data", dir.File("shop.csv"), "--label-column", "kind", "--categorical", "size", "--epochs", "2", "--device", "cpu", "--save", model).Code);
        var r = Run("summary", model);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("x1: numeric, standardized", r.Out);
        Assert.Contains("colour: categorical, one-hot over 3 (blue, green, red)", r.Out);
        Assert.Contains("size: categorical, one-hot over 3 (1, 2, 3)", r.Out);
        r = Run("summary", model, "--json");
        var columns = JsonDocument.Parse(r.Out).RootElement.GetProperty("columns");
        Assert.Equal(["x1", "colour", "size", "x2"], columns.EnumerateArray().Select(c => c.GetProperty("name").GetString()));
    }

    [Fact]
    public void AFolderOfCsvFiles_WithoutDatasetCsv_IsRecognized()
    {
        using var dir = new TempDir();
        Table(dir.File("t_train.csv"), 150, 7, regression: false);
        Table(dir.File("t_test.csv"), 50, 8, regression: false);
        var r = Run("train", "--data", dir.Path, "--label-column", "kind", "--epochs", "2", "--device", "cpu");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("reading it as --dataset csv", r.Out);
        // The table defaults are said once; a flag given replaces its default (here --epochs).
        Assert.Contains("Table defaults (scikit-learn's MLP): standardized inputs, relu, --hidden 100, --batch-size 200, --tol 1e-4;", r.Out);
        Assert.DoesNotContain("up to 200 epochs", r.Out);
    }

    [Fact]
    public void QuotedFields_AsPandasWritesThem_AreRead_AndAnIdentifierColumnIsPointedOut()
    {
        // Titanic's shape: a Name with commas and quotes in double quotes, a quoted field over two lines, gaps, text.
        using var dir = new TempDir();
        var rng = new Random(11);
        var sb = new StringBuilder("PassengerId,Survived,Pclass,Name,Sex,Age,Fare,Embarked\n");
        for (int i = 0; i < 400; i++)
        {
            bool female = rng.Next(2) == 0;
            int pclass = 1 + rng.Next(3);
            bool survived = female ? rng.NextDouble() < 0.8 : rng.NextDouble() < 0.2;
            string name = i == 7 ? "\"Smith, Mr. John \"\"Jack\"\"\nJr.\"" : $"\"Person{i}, {(female ? "Mrs." : "Mr.")} A\"";
            string age = i % 9 == 0 ? "" : (20 + rng.Next(40)).ToString(CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"{i + 1},{(survived ? 1 : 0)},{pclass},{name},{(female ? "female" : "male")},{age},{10 + 20 * rng.NextDouble():F2},{"SCQ"[rng.Next(3)]}\n");
        }
        File.WriteAllText(dir.File("titanic.csv"), sb.ToString());
        var r = Run("train", "--data", dir.File("titanic.csv"), "--label-column", "Survived", "--drop-columns", "PassengerId", "--device", "cpu", "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.True(LastJson(r.Out).GetProperty("test_accuracy").GetDouble() > 70, r.Out);
        Assert.Contains("column 'Name' has 400 distinct values in 400 rows", r.Err);
        var table = TableReader.Read(dir.File("titanic.csv"), new TableOptions { Csv = new CsvOptions("Survived") });
        var names = table.Columns.Single(c => c.Name == "Name").Categories;
        Assert.Contains("Smith, Mr. John \"Jack\"\nJr.", names);
        Assert.Contains("Person0, " + (names.Any(n => n == "Person0, Mrs. A") ? "Mrs." : "Mr.") + " A", names);
        Assert.Equal(400, table.Rows);
    }

    [Fact]
    public void ClassWeightBalanced_RaisesTheRareClassRecall()
    {
        // 1 row in 20 is the rare class: unweighted, a small model learns to ignore it; balanced, it finds it.
        using var dir = new TempDir();
        var rng = new Random(9);
        var sb = new StringBuilder("a,b,label\n");
        for (int i = 0; i < 2000; i++)
        {
            bool rare = i % 20 == 0;
            double a = rng.NextDouble() + (rare ? 0.6 : 0), b = rng.NextDouble();
            sb.Append(CultureInfo.InvariantCulture, $"{a:F4},{b:F4},{(rare ? "rare" : "common")}\n");
        }
        File.WriteAllText(dir.File("imb.csv"), sb.ToString());
        double Recall(params string[] extra)
        {
            string model = dir.File($"m{extra.Length}.safetensors");
            var r = Run(["train", "--data", dir.File("imb.csv"), "--label-column", "label", "--hidden", "8", "--epochs", "30", "--device", "cpu", "--save", model, .. extra]);
            Assert.True(r.Code == 0, r.Err);
            r = Run("eval", model, "--data", dir.File("imb.csv"), "--json");
            return JsonDocument.Parse(r.Out).RootElement.GetProperty("per_class").EnumerateArray()
                .Single(c => c.GetProperty("class").GetString() == "rare").GetProperty("recall").GetDouble();
        }
        double plain = Recall(), balanced = Recall("--class-weight", "balanced");
        Assert.True(balanced > plain + 0.2, $"recall of the rare class: {plain} unweighted, {balanced} balanced");
    }
}
