using System.Text.Json;
using Nabla.Cli;
using Nabla.Data;
using Nabla.IO;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Cli;

public class PredictTests
{
    [Fact]
    public void Predict_PngMadeFromATestImage_ReturnsThatImagesClass()
    {
        using var dir = new TempDir();
        var err = new StringWriter();
        string model = dir.File("m.safetensors");
        Assert.True(Program.Run(["train", "--epochs", "1", "--threads", "2", "--save", model, "--plot", dir.File("plots")], new StringWriter(), err) == 0, err.ToString());
        foreach (var (png, width) in new[] { ("loss.png", 800), ("accuracy.png", 800), ("confusion.png", 900), ("misclassified.png", 0) })
        {
            using var bitmap = SkiaSharp.SKBitmap.Decode(Path.Combine(dir.File("plots"), png));
            Assert.NotNull(bitmap);
            if (width > 0) Assert.Equal(width, bitmap.Width);
        }
        var (_, test) = DatasetLocator.Load(FashionMnist.Spec, new DatasetLocator().Locate(FashionMnist.Spec));
        var loaded = ModelFile.Load(model);
        var report = new List<(int Index, int Label)>();
        var x = new float[784];
        var y = new int[1];
        for (int i = 0; i < 200 && report.Count < 3; i++)
        {
            test.Gather([i], x, y);
            var logits = loaded.Model.Forward(Nabla.Tensors.Tensor.FromArray(x, 1, 784)).ToArray();
            if (Array.IndexOf(logits, logits.Max()) == y[0]) report.Add((i, y[0]));
        }
        Assert.Equal(3, report.Count);
        var paths = new List<string>();
        foreach (var (index, _) in report)
        {
            string png = dir.File($"test{index}.png");
            Imaging.SaveGrayscalePng(png, test.Image(index), 28, 28);
            // Lossless and already 28×28: the PNG decodes to exactly the dataset's floats.
            test.Gather([index], x, y);
            Assert.Equal(x, Imaging.LoadGrayscale(png, 28, 28));
            paths.Add(png);
        }
        var o = new StringWriter();
        Assert.True(Program.Run(["predict", model, .. paths, "--json"], o, err) == 0, err.ToString());
        using var doc = JsonDocument.Parse(o.ToString().Trim().Split('\n')[^1]);
        var predictions = doc.RootElement.GetProperty("predictions");
        for (int k = 0; k < report.Count; k++)
        {
            var top = predictions[k].GetProperty("top");
            Assert.Equal(3, top.GetArrayLength());
            Assert.Equal(report[k].Label, top[0].GetProperty("index").GetInt32());
            Assert.Equal(FashionMnist.ClassNames[report[k].Label], top[0].GetProperty("class").GetString());
            Assert.True(top[0].GetProperty("probability").GetDouble() >= top[1].GetProperty("probability").GetDouble());
        }
    }

    [Fact]
    public void Predict_NotAnImage_Exit1()
    {
        using var dir = new TempDir();
        var arch = new Nabla.NN.MlpArchitecture(784, [4], Nabla.NN.ActivationKind.Sigmoid, 10);
        ModelFile.Save(dir.File("m.safetensors"), arch.Create(new Nabla.Tensors.Rng(1)), arch, FashionMnist.ClassNames);
        File.WriteAllText(dir.File("x.png"), "not a png");
        var e = new StringWriter();
        Assert.Equal(1, Program.Run(["predict", dir.File("m.safetensors"), dir.File("x.png")], new StringWriter(), e));
        Assert.Contains("not a PNG or JPEG", e.ToString());
    }

    [Fact]
    public void Predict_ModelWithNonSquareInput_UsageError()
    {
        using var dir = new TempDir();
        var arch = new Nabla.NN.MlpArchitecture(10, [4], Nabla.NN.ActivationKind.Sigmoid, 3);
        ModelFile.Save(dir.File("m.safetensors"), arch.Create(new Nabla.Tensors.Rng(1)), arch, ["a", "b", "c"]);
        Imaging.SaveGrayscalePng(dir.File("x.png"), new byte[28 * 28], 28, 28);
        var e = new StringWriter();
        Assert.Equal(2, Program.Run(["predict", dir.File("m.safetensors"), dir.File("x.png")], new StringWriter(), e));
        Assert.Contains("takes 10 features, not a square image", e.ToString());
    }

    [Fact]
    public void Eval_ModelForOtherFeatures_Exit1WithBothSizes()
    {
        using var dir = new TempDir();
        var arch = new Nabla.NN.MlpArchitecture(10, [4], Nabla.NN.ActivationKind.Sigmoid, 10);
        ModelFile.Save(dir.File("m.safetensors"), arch.Create(new Nabla.Tensors.Rng(1)), arch, FashionMnist.ClassNames);
        var e = new StringWriter();
        Assert.Equal(1, Program.Run(["eval", dir.File("m.safetensors")], new StringWriter(), e));
        Assert.Contains("takes 10 features per sample; the fashion-mnist test set has 784", e.ToString());
    }

    [Fact]
    public void Predict_LightBackgroundPhoto_IsInvertedLikeTheDataset()
    {
        using var dir = new TempDir();
        var dark = new byte[28 * 28];
        for (int i = 0; i < dark.Length; i++) dark[i] = (byte)(i % 28 > 10 && i % 28 < 18 ? 220 : 0);
        var light = dark.Select(b => (byte)(255 - b)).ToArray();
        Imaging.SaveGrayscalePng(dir.File("dark.png"), dark, 28, 28);
        Imaging.SaveGrayscalePng(dir.File("light.png"), light, 28, 28);
        Close.All(Imaging.LoadGrayscale(dir.File("dark.png"), 28, 28), Imaging.LoadGrayscale(dir.File("light.png"), 28, 28), 1e-6);
    }
}
