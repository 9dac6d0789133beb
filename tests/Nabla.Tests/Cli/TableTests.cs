using System.Globalization;
using System.Text.Json;
using Nabla.Cli;
using Nabla.Tests.Testing;
using static Nabla.Tests.Testing.CliRunner;

namespace Nabla.Tests.Cli;

/// <summary>Your own tables: string labels, a label column anywhere, a header, a delimiter, scaling stored in the model.</summary>
[Collection("Serial")]
public class TableTests
{

    /// <summary>Three Gaussian blobs with negative coordinates far from [0, 255], string labels in the last column.</summary>
    private static void Blobs(string path, int n, int seed, char d = ';')
    {
        var rng = new Nabla.Tensors.Rng((ulong)seed);
        (string Name, float[] C)[] centers = [("setosa", [-50f, 20f, -30f]), ("versicolor", [0f, -40f, 10f]), ("virginica", [40f, 30f, -10f])];
        var lines = new List<string> { string.Join(d, "f1", "f2", "f3", "species") };
        for (int i = 0; i < n; i++)
        {
            var (name, c) = centers[i % 3];
            lines.Add(string.Join(d, c.Select(v => (v + 12 * rng.NextGaussian()).ToString("F3", CultureInfo.InvariantCulture))) + d + name);
        }
        File.WriteAllLines(path, lines);
    }

    [Fact]
    public void StringLabelsLast_Standardized_TrainEvalPredict_ClassNamesComeBack()
    {
        using var dir = new TempDir();
        Blobs(dir.File("b_train.csv"), 300, 1);
        Blobs(dir.File("b_test.csv"), 90, 2);
        string model = dir.File("m.safetensors");
        var r = Run("train", "--dataset", "csv", "--data", dir.Path, "--delimiter", ";", "--label-column", "species", "--scale", "standardize",
            "--hidden", "16", "--epochs", "15", "--lr", "0.01", "--threads", "1", "--device", "cpu", "--save", model, "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.True(JsonDocument.Parse(r.Out.Trim().Split('\n')[^1]).RootElement.GetProperty("test_accuracy").GetDouble() > 95);

        r = Run("eval", model, "--data", dir.Path, "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.True(JsonDocument.Parse(r.Out).RootElement.GetProperty("test_accuracy").GetDouble() > 95);

        File.WriteAllLines(dir.File("rows.csv"), ["f3;species;f1;f2", "-30;?;-50;20", "10;?;0;-40", "-10;?;40;30"]); // columns by name
        r = Run("predict", model, dir.File("rows.csv"), "--json");
        Assert.True(r.Code == 0, r.Err);
        var classes = JsonDocument.Parse(r.Out).RootElement.GetProperty("predictions").EnumerateArray()
            .Select(p => p.GetProperty("top")[0].GetProperty("class").GetString()!).ToArray();
        Assert.Equal(["setosa", "versicolor", "virginica"], classes);

        r = Run("predict", model, dir.File("x.png"));
        Assert.Equal(2, r.Code);
        Assert.Contains("not images", r.Err);
    }

    [Fact]
    public void Csv_DefaultScaling_IsStandardize_CarriedByTheModel()
    {
        // Tables are standardized by default (statistics from the training file), and the scaling is the model's first
        // layer, not a note beside it: the file's own scaling entry says none, the model's ColumnTransformer does the rest.
        using var dir = new TempDir();
        Blobs(dir.File("b_train.csv"), 300, 3, ',');
        Blobs(dir.File("b_test.csv"), 90, 4, ',');
        var r = Run("train", "--dataset", "csv", "--data", dir.Path, "--label-column", "-1", "--hidden", "16", "--epochs", "10", "--batch-size", "32",
            "--threads", "1", "--device", "cpu", "--save", dir.File("m.safetensors"), "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.True(JsonDocument.Parse(r.Out.Trim().Split('\n')[^1]).RootElement.GetProperty("test_accuracy").GetDouble() > 90);
        var meta = Nabla.IO.SafeTensors.Read(dir.File("m.safetensors")).Metadata;
        Assert.Contains("\"scale\":\"none\"", meta["nabla.input"]);
        var first = Assert.IsType<Nabla.NN.ColumnTransformer>(Nabla.IO.ModelFile.Load(dir.File("m.safetensors")).Model.Layers[0]);
        var f1 = File.ReadAllLines(dir.File("b_train.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(f1.Average(), first.Preprocessor.Columns[0].Mean, 3);
        double sd = Math.Sqrt(f1.Select(v => (v - f1.Average()) * (v - f1.Average())).Average());
        Assert.Equal(1 / sd, first.Preprocessor.Columns[0].Scale, 5);
    }

    [Fact]
    public void Csv_UnknownLabelColumn_OneLine()
    {
        using var dir = new TempDir();
        Blobs(dir.File("b_train.csv"), 30, 1);
        Blobs(dir.File("b_test.csv"), 9, 2);
        var r = Run("train", "--dataset", "csv", "--data", dir.Path, "--delimiter", ";", "--label-column", "kind", "--threads", "1", "--device", "cpu");
        Assert.Equal(1, r.Code);
        Assert.Contains("no column named 'kind'", r.Err);
    }
}

/// <summary>Your own images: a folder per class, trained, evaluated and predicted on.</summary>
[Collection("Serial")]
public class ImageFolderTests
{

    /// <summary>Light bars on black, vertical or horizontal, at random places: two classes a small MLP separates.</summary>
    private static void Bars(string dir, int perClass, int seed)
    {
        var rng = new Nabla.Tensors.Rng((ulong)seed);
        foreach (var kind in new[] { "horizontal", "vertical" })
        {
            Directory.CreateDirectory(Path.Combine(dir, kind));
            for (int n = 0; n < perClass; n++)
            {
                var px = new byte[20 * 20];
                int at = 3 + rng.NextInt(14);
                for (int i = 0; i < 20; i++)
                    for (int w = 0; w < 2; w++)
                        px[kind == "horizontal" ? (at + w) * 20 + i : i * 20 + at + w] = 230;
                Imaging.SaveGrayscalePng(Path.Combine(dir, kind, $"{n:D3}.png"), px, 20, 20);
            }
        }
    }

    [Fact]
    public void Folder_TrainEvalPredict_ClassNamesFromFolders()
    {
        using var dir = new TempDir();
        Bars(dir.File("train"), 60, 1);
        Bars(dir.File("test"), 20, 2);
        string model = dir.File("m.safetensors");
        var r = Run("train", "--dataset", "folder", "--data", dir.Path, "--image-size", "20x20", "--hidden", "32", "--epochs", "15",
            "--lr", "0.01", "--threads", "1", "--device", "cpu", "--save", model, "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.True(JsonDocument.Parse(r.Out.Trim().Split('\n')[^1]).RootElement.GetProperty("test_accuracy").GetDouble() > 90, r.Out);
        r = Run("eval", model, "--dataset", "folder", "--data", dir.Path, "--json");
        Assert.True(r.Code == 0, r.Err);
        r = Run("predict", model, dir.File("test/vertical/000.png"), "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal("vertical", JsonDocument.Parse(r.Out).RootElement.GetProperty("predictions")[0].GetProperty("top")[0].GetProperty("class").GetString());
        r = Run("summary", model, "--json");
        Assert.Contains("400-32-2", r.Out);
    }

    [Fact]
    public void Folder_WithoutTrainAndTest_HoldsOutAFifth()
    {
        using var dir = new TempDir();
        Bars(dir.Path, 25, 3);
        var r = Run("train", "--dataset", "folder", "--data", dir.Path, "--image-size", "20x20", "--epochs", "1", "--threads", "1", "--device", "cpu");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("40 training and 10 test samples", r.Out);
    }
}
