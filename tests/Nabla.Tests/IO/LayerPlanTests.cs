using System.Text.Json;
using Nabla.Autograd;
using Nabla.Data;
using Nabla.IO;
using Nabla.NN;
using Nabla.Tensors;
using Nabla.Tests.Testing;

namespace Nabla.Tests.IO;

/// <summary>The architecture is part of the model file: every Sequential of built-in layers round-trips exactly.</summary>
public class LayerPlanTests
{
    private static readonly Func<Rng, Sequential>[] Models =
    [
        r => new Sequential(new Flatten(), new Linear(12, 6, r), new Sigmoid(), new Linear(6, 3, r)),
        r => new Sequential(new Relu(), new Dropout(0.3f, r), new Linear(12, 7, r), new Tanh(), new Linear(7, 3, r)),
        r => new Sequential(new Linear(12, 8, r), new Relu(), new Dropout(0.1f, r), new Linear(8, 5, r), new Tanh(), new Dropout(0.4f, r), new Linear(5, 3, r)),
        r => new Sequential(new Flatten(), new Linear(12, 9, r, bias: false), new Linear(9, 3, r), new Softmax()),
        r => new Sequential(new Dropout(0.2f, r), new Linear(12, 3, r)),
        r => new Sequential(new Linear(12, 4, r), new Sigmoid(), new Linear(4, 4, r), new Relu(), new Linear(4, 3, r)),
    ];

    public static TheoryData<int> ModelIndices() => [.. Enumerable.Range(0, Models.Length)];

    [Theory]
    [MemberData(nameof(ModelIndices))]
    public void SaveLoad_RebuildsEveryLayer_SameOutputs(int index)
    {
        using var dir = new TempDir();
        var model = Models[index](new Rng(3));
        string path = dir.File("m.safetensors");
        ModelFile.Save(path, model, ["a", "b", "c"]);
        var loaded = ModelFile.Load(path);

        Assert.Equal(model.ToString(), loaded.Model.ToString());
        var before = LayerPlan.Of(model).Layers.Select(l => l with { Seed = 0 });
        Assert.Equal(before, loaded.Plan.Layers.Select(l => l with { Seed = 0 }));
        Assert.Equal(["a", "b", "c"], loaded.ClassNames);
        foreach (var ((n1, p1), (n2, p2)) in model.NamedParameters().Zip(loaded.Model.NamedParameters()))
        {
            Assert.Equal(n1, n2);
            Assert.Equal(p1.ToArray(), p2.ToArray());
        }
        model.Eval();
        var x = Tensor.Uniform(new Shape(4, 12), -1, 1, new Rng(8));
        using (GradMode.NoGrad())
            Assert.Equal(model.Forward(x).ToArray(), loaded.Model.Forward(x).ToArray());
    }

    private sealed class Swish : Module
    {
        public override Tensor Forward(Tensor x) => x.Mul(x.Sigmoid());
    }

    [Fact]
    public void Save_CustomLayer_WritesItsStateDict_ThatLoadsIntoTheModuleBuiltInCode()
    {
        using var dir = new TempDir();
        var model = new Sequential(new Linear(4, 3, new Rng(1)), new Swish(), new Linear(3, 2, new Rng(2)));
        string path = dir.File("m.safetensors");
        ModelFile.Save(path, model, ["a", "b"]);
        // PyTorch's names, and a note that the code defines the architecture.
        var (meta, tensors) = SafeTensors.Read(path);
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], tensors.Select(t => t.Name));
        Assert.Contains("LoadStateDict", meta["nabla.note"]);
        var e = Assert.Throws<Nabla.Data.DataFormatException>(() => ModelFile.Load(path));
        Assert.Contains("Swish", e.Message);
        Assert.Contains("LoadStateDict", e.Message);

        var rebuilt = new Sequential(new Linear(4, 3, new Rng(9)), new Swish(), new Linear(3, 2, new Rng(9)));
        ModelFile.LoadStateDict(path, rebuilt);
        var x = Tensor.FromArray([0.5f, -1f, 2f, 0.25f], 1, 4);
        Assert.Equal(model.PredictValues(x).ToArray(), rebuilt.PredictValues(x).ToArray());
        // A module of another shape is refused, naming the parameter.
        var other = new Sequential(new Linear(4, 5, new Rng(9)), new Swish(), new Linear(5, 2, new Rng(9)));
        Assert.Contains("0.weight", Assert.Throws<Nabla.Data.DataFormatException>(() => ModelFile.LoadStateDict(path, other)).Message);
    }

    [Fact]
    public void EveryBuiltInLayer_DescribesItself_AndRoundTripsThroughItsPlan()
    {
        var rng = new Rng(4);
        var pre = new TablePreprocessor([new TableColumn("a", ColumnKind.Numeric) { Mean = 1f, Scale = 2f }, new TableColumn("b", ColumnKind.Categorical) { Categories = ["x", "y"] }]);
        Module[] layers = [new ColumnTransformer(pre), new Linear(3, 4, rng), new Sigmoid(), new Dropout(0.25f, rng), new Linear(4, 4, rng), new Relu(),
            new Linear(4, 4, rng, bias: false), new Tanh(), new Softmax(), new Rescaling([1f, 2f, 3f, 4f], [0f, 1f, 2f, 3f])];
        // Every concrete layer class of the library is in the list above: a new layer must describe itself too.
        var kinds = typeof(Module).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Module)) && !t.IsAbstract && t.IsPublic && t != typeof(Sequential));
        Assert.DoesNotContain(kinds, t => t != typeof(Flatten) && !layers.Any(l => l.GetType() == t));
        var model = new Sequential(layers);
        var plan = LayerPlan.Of(model);
        Assert.Equal(layers.Length, plan.Layers.Count);
        Assert.All(plan.Layers.Where(l => l.Kind != LayerKind.Activation), l => Assert.Null(l.Activation)); // no placeholder activation
        var again = LayerPlan.FromJson(plan.ToJson());
        Assert.Equal(plan.ToString(), again.ToString());
        using var dir = new TempDir();
        ModelFile.Save(dir.File("m.safetensors"), model, ["a", "b", "c", "d"]);
        var loaded = ModelFile.Load(dir.File("m.safetensors")).Model;
        var x = Tensor.FromArray([0.5f, 1f, 3f, 0f], 2, 2); // raw rows: a number, a category index
        Assert.Equal(model.PredictValues(x).ToArray(), loaded.PredictValues(x).ToArray());
        // A plan built for loading holds zeros, not weights drawn only to be overwritten.
        Assert.All(plan.CreateEmpty(new Rng(1)).Parameters(), p => Assert.All(p.ToArray(), v => Assert.Equal(0f, v)));
    }

    [Fact]
    public void StateDict_HasPyTorchNames_AndLoadStateDictChecksKeysAndShapes()
    {
        var model = new Sequential(new Flatten(), new Linear(4, 3, new Rng(1)), new Swish(), new Linear(3, 2, new Rng(2), bias: false));
        var state = model.StateDict();
        Assert.Equal(["1.weight", "1.bias", "3.weight"], state.Keys);
        Assert.Same(model.NamedParameters()[0].Parameter, state["1.weight"]);
        var copy = new Sequential(new Flatten(), new Linear(4, 3, new Rng(5)), new Swish(), new Linear(3, 2, new Rng(6), bias: false));
        var none = copy.LoadStateDict(state);
        Assert.Empty(none.MissingKeys);
        Assert.Equal(state["3.weight"].ToArray(), copy.StateDict()["3.weight"].ToArray());

        var partial = new StateDict();
        partial.Add("1.weight", state["1.weight"]);
        partial.Add("9.bias", Tensor.Zeros(2));
        var e = Assert.Throws<ArgumentException>(() => copy.LoadStateDict(partial));
        Assert.Contains("missing key(s): 1.bias, 3.weight", e.Message);
        Assert.Contains("unexpected key(s): 9.bias", e.Message);
        var keys = copy.LoadStateDict(partial, strict: false);
        Assert.Equal(["1.bias", "3.weight"], keys.MissingKeys);
        Assert.Equal(["9.bias"], keys.UnexpectedKeys);
        var wrong = new StateDict();
        wrong.Add("1.weight", Tensor.Zeros(4, 3));
        Assert.Contains("shape", Assert.Throws<ArgumentException>(() => copy.LoadStateDict(wrong, strict: false)).Message);
    }

    [Fact]
    public void Save_ClassNamesNotMatchingOutputs_Refused()
    {
        using var dir = new TempDir();
        var model = Models[0](new Rng(1));
        Assert.Throws<ArgumentException>(() => ModelFile.Save(dir.File("m.safetensors"), model, ["a", "b"]));
    }

    [Theory]
    [InlineData("""{"inputs":4,"layers":[{"kind":"linear","in":4,"out":2,"bias":true},{"kind":1}]}""")]
    [InlineData("""{"inputs":4,"layers":[{"kind":"swish"}]}""")]
    [InlineData("""{"inputs":4,"layers":[{"kind":"linear","in":5,"out":2,"bias":true}]}""")]
    [InlineData("""{"inputs":4,"layers":[{"kind":"linear","in":4,"out":0,"bias":true}]}""")]
    [InlineData("""{"inputs":4,"layers":[{"kind":"dropout","p":5}]}""")]
    [InlineData("""{"inputs":20000,"layers":[{"kind":"linear","in":20000,"out":200000,"bias":true}]}""")]
    [InlineData("""{"inputs":4,"layers":"x"}""")]
    public void FromJson_BadPlan_FormatException(string json) =>
        Assert.Throws<FormatException>(() => LayerPlan.FromJson(json));

    [Fact]
    public void Load_PlanNotMatchingTensors_RefusedBeforeBuildingTheModel()
    {
        using var dir = new TempDir();
        string plan = """{"inputs":20000,"layers":[{"kind":"linear","in":20000,"out":20000,"bias":true}]}""";
        SafeTensors.Save(dir.File("m.safetensors"), [("0.weight", new float[4], [2, 2])],
            new Dictionary<string, string> { ["nabla.layers"] = plan });
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<DataFormatException>(() => ModelFile.Load(dir.File("m.safetensors")));
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 100_000_000, "the 1.6 GB model must not be allocated");
        Assert.Contains("0.weight", e.Message);
    }

    [Theory]
    [InlineData("{\"a\":1}")]
    [InlineData("[1, 2]")]
    [InlineData("[\"a\", null]")]
    [InlineData("not json")]
    public void Load_ClassNamesNotAStringArray_DataFormatException(string names)
    {
        using var dir = new TempDir();
        var model = new Sequential(new Linear(2, 2, new Rng(1)));
        ModelFile.Save(dir.File("m.safetensors"), model, ["a", "b"]);
        var (meta, tensors) = SafeTensors.Read(dir.File("m.safetensors"));
        var m = meta.ToDictionary(k => k.Key, k => k.Value);
        m["nabla.class_names"] = names;
        SafeTensors.Save(dir.File("m.safetensors"), [.. tensors.Select(t => (t.Name, t.Data, t.Shape))], m);
        Assert.Throws<DataFormatException>(() => ModelFile.Load(dir.File("m.safetensors")));
    }

    [Fact]
    public void Load_LegacyArchitectureMetadata_StillRead()
    {
        using var dir = new TempDir();
        var arch = new MlpArchitecture(6, [4], ActivationKind.Tanh, 3);
        var model = arch.Create(new Rng(2));
        SafeTensors.Save(dir.File("m.safetensors"),
            [.. model.NamedParameters().Select(p => (p.Name, p.Parameter.ToArray(), p.Parameter.Shape.ToArray().Select(d => (long)d).ToArray()))],
            new Dictionary<string, string> { ["nabla.architecture"] = arch.ToJson(), ["nabla.class_names"] = JsonSerializer.Serialize(new[] { "x", "y", "z" }) });
        var loaded = ModelFile.Load(dir.File("m.safetensors"));
        Assert.Equal("6-4-3 tanh", loaded.Plan.ToString());
        Assert.Equal(model.ToString(), loaded.Model.ToString());
    }
}
