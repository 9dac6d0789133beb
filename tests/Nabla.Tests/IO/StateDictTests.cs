using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Nabla.Autograd;
using Nabla.Cli;
using Nabla.Data;
using Nabla.IO;
using Nabla.NN;
using Nabla.Tests.Testing;
using Tensor = Nabla.Tensors.Tensor;
using static Nabla.Tests.Testing.CliRunner;

namespace Nabla.Tests.IO;

/// <summary>
/// PyTorch state dicts, made by PyTorch (Fixtures/make_state_dict_fixtures.py): read as PyTorch built them, never
/// with a guessed activation, and as accurate in Nabla as in PyTorch.
/// </summary>
public class StateDictTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "IO", "Fixtures");

    private static JsonElement Fixture(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "torch_state_dicts.json")));
        return doc.RootElement.GetProperty("models").GetProperty(name).Clone();
    }

    private static string FixturePath(string name) => Path.Combine(Dir, $"torch_{name}.safetensors");


    [Theory]
    [InlineData("relu", "784-64-10 relu", "Flatten,Linear,ReLU,Linear")]
    [InlineData("tanh", "784-48-10 tanh", "Flatten,Linear,Tanh,Linear")]
    [InlineData("dropout", "784-64-32-10 relu, dropout not recorded", "Flatten,Linear,ReLU,Dropout,Linear,ReLU,Dropout,Linear")]
    [InlineData("noflatten", "784-40-10 sigmoid", "Linear,Sigmoid,Linear")]
    public void Load_WithActivation_RebuildsPyTorchsLayers_AndItsLogits(string name, string plan, string layers)
    {
        var f = Fixture(name);
        var act = CommonOptions.ParseActivations(f.GetProperty("activation").GetString()!);
        var loaded = ModelFile.Load(FixturePath(name), act);
        Assert.Equal(plan, loaded.Plan.ToString());
        Assert.Equal(layers, string.Join(',', loaded.Plan.Layers.Select(l => l.TypeName)));
        Assert.Equal(f.GetProperty("keys").EnumerateArray().Select(k => k.GetString()), loaded.Model.NamedParameters().Select(p => p.Name));

        var test = Data().Test;
        var x = new float[2 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = test.Image(i / 784)[i % 784] / 255f;
        float[] logits;
        using (GradMode.NoGrad()) logits = loaded.Model.Forward(Tensor.FromArray(x, 2, 784)).ToArray();
        var want = f.GetProperty("logits_first_two_test_images").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => (float)v.GetDouble()).ToArray();
        Close.All(want, logits, 1e-4, 1e-4);
    }

    [Fact]
    public void AStateDictsDropout_HasNoProbability_EvaluatesAndRefusesToTrain()
    {
        // PyTorch's state dict does not record a Dropout's p: the loaded layer says so rather than holding a 0.
        var loaded = ModelFile.Load(FixturePath("dropout"), CommonOptions.ParseActivations(Fixture("dropout").GetProperty("activation").GetString()!));
        var dropout = loaded.Model.Layers.OfType<Nabla.NN.Dropout>().First();
        Assert.Null(dropout.P);
        Assert.Equal("Dropout(p=not recorded)", dropout.ToString());
        var x = Tensor.FromArray(new float[2 * 784], 2, 784);
        loaded.Model.Eval();
        loaded.Model.Forward(x); // the identity in evaluation
        loaded.Model.Train();
        var e = Assert.Throws<InvalidOperationException>(() => loaded.Model.Forward(x));
        Assert.Contains("probability was not in the file", e.Message);
    }

    private static (ImageDataset Train, ImageDataset Test) Data()
    {
        var spec = FashionMnist.Spec;
        return DatasetLocator.Load(spec, new DatasetLocator().Locate(spec));
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("dropout")]
    [InlineData("noflatten")]
    public void Load_WithoutActivation_Refused_NeverGuessed(string name)
    {
        var e = Assert.Throws<UnknownActivationException>(() => ModelFile.Load(FixturePath(name)));
        Assert.Contains("activation", e.Message);
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("dropout")]
    [InlineData("noflatten")]
    public void Cli_Eval_AccuracyEqualsPyTorchs(string name)
    {
        var f = Fixture(name);
        var (code, output, err) = Run("eval", FixturePath(name), "--activation", f.GetProperty("activation").GetString()!, "--json");
        Assert.True(code == 0, err);
        double ours = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.GetProperty("test_accuracy").GetDouble();
        // PyTorch's figure is rounded to 0.01 %; a float32 tie may flip one image of 10,000 (0.01 %).
        Assert.InRange(ours, f.GetProperty("test_accuracy").GetDouble() - 0.015, f.GetProperty("test_accuracy").GetDouble() + 0.015);
    }

    [Theory]
    [InlineData("summary")]
    [InlineData("eval")]
    [InlineData("export")]
    [InlineData("predict")]
    public void Cli_StateDictWithoutActivation_OneLineNamingTheFlag_Exit2(string command)
    {
        using var dir = new TempDir();
        string[] extra = command switch
        {
            "export" => ["--onnx", dir.File("m.onnx")],
            "predict" => [dir.File("x.png")],
            _ => [],
        };
        var (code, _, err) = Run([command, FixturePath("relu"), .. extra]);
        Assert.Equal(2, code);
        Assert.Contains("--activation", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(dir.File("m.onnx")));
    }

    [Fact]
    public void Cli_Summary_PerLayerActivations()
    {
        var (code, output, err) = Run("summary", FixturePath("dropout"), "--activation", "relu,tanh", "--json");
        Assert.True(code == 0, err);
        Assert.Equal("784-64-32-10 relu,tanh, dropout not recorded", JsonDocument.Parse(output).RootElement.GetProperty("architecture").GetString());
        (code, _, err) = Run("summary", FixturePath("dropout"), "--activation", "relu,tanh,sigmoid");
        Assert.Equal(1, code);
        Assert.Contains("3 activations given for its 2 hidden layers", err);
    }

    [Fact]
    public void Cli_Export_RunsInOnnxRuntime_WithPyTorchsLogits()
    {
        using var dir = new TempDir();
        var (code, _, err) = Run("export", FixturePath("noflatten"), "--activation", "sigmoid", "--onnx", dir.File("m.onnx"));
        Assert.True(code == 0, err);
        var test = Data().Test;
        var x = new float[2 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = test.Image(i / 784)[i % 784] / 255f;
        using var session = new InferenceSession(dir.File("m.onnx"));
        var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x, [2, 784]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var want = Fixture("noflatten").GetProperty("logits_first_two_test_images").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => (float)v.GetDouble()).ToArray();
        Close.All(want, results.Single().AsEnumerable<float>().ToArray(), 1e-4, 1e-4);
    }

    [Fact]
    public void Cli_NablaFile_ContradictingActivation_Refused()
    {
        using var dir = new TempDir();
        var model = new MlpArchitecture(784, [8], ActivationKind.Sigmoid, 10).Create(new Nabla.Tensors.Rng(1));
        ModelFile.Save(dir.File("m.safetensors"), model, FashionMnist.ClassNames);
        var (code, _, err) = Run("summary", dir.File("m.safetensors"), "--activation", "relu");
        Assert.Equal(1, code);
        Assert.Contains("records its activations (sigmoid)", err);
        (code, _, _) = Run("summary", dir.File("m.safetensors"), "--activation", "sigmoid");
        Assert.Equal(0, code);
    }

    [Theory]
    [InlineData(new[] { "1.weight", "5.weight" }, "hold no weights")]      // three layers between: cannot be told
    [InlineData(new[] { "2.weight", "4.weight" }, "before the first Linear")]
    [InlineData(new[] { "1.weight", "x.weight" }, "not an nn.Sequential Linear parameter")]
    [InlineData(new[] { "1.weight", "3.running_mean" }, "not an nn.Sequential Linear parameter")]
    public void StateDict_LayersThatCannotBeInferred_Refused(string[] names, string message)
    {
        using var dir = new TempDir();
        SafeTensors.Save(dir.File("m.safetensors"), [.. names.Select((n, i) => (n, new float[4], new long[] { 2, 2 }))],
            new Dictionary<string, string> { ["format"] = "pt" });
        var e = Assert.Throws<DataFormatException>(() => ModelFile.Load(dir.File("m.safetensors"), [ActivationKind.Relu]));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void StateDict_LinearLayersInARow_NeedNoActivation()
    {
        using var dir = new TempDir();
        SafeTensors.Save(dir.File("m.safetensors"), [("0.weight", new float[6], [3, 2]), ("1.weight", new float[6], [2, 3]), ("1.bias", new float[2], [2])],
            new Dictionary<string, string> { ["format"] = "pt" });
        var loaded = ModelFile.Load(dir.File("m.safetensors"));
        Assert.Equal("Linear,Linear", string.Join(',', loaded.Plan.Layers.Select(l => l.TypeName)));
        Assert.False(loaded.Plan.Layers[0].Bias);
    }
}
