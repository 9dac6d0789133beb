using Nabla.Autograd;
using Nabla.NN;
using Nabla.Tensors;
using Nabla.Tests.Testing;

namespace Nabla.Tests.NN;

public class LayerTests
{
    public static IEnumerable<object[]> Layers() =>
    [
        [new Linear(5, 4, new Rng(1))],
        [new Linear(5, 4, new Rng(2), bias: false)],
        [new Sigmoid()],
        [new Relu()],
        [new Tanh()],
        [new Softmax()],
        [new Flatten()],
    ];

    [Theory]
    [MemberData(nameof(Layers))]
    public void Layer_Autograd_GradientMatchesFiniteDifferences(Module layer)
    {
        var x = Tensor.Uniform(new Shape(3, 5), -1, 1, new Rng(3));
        GradCheck.Check(t => layer.Forward(t[0]), [x]);
        foreach (var (name, p) in layer.NamedParameters())
            GradCheck.Check(_ => layer.Forward(x.Detach()), [p]);
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Layer_ExplicitForm_EqualsAutograd(Module layer)
    {
        const int B = 3, I = 5;
        var x = Tensor.Uniform(new Shape(B, I), -1, 1, new Rng(4));
        var dy = Tensor.Uniform(new Shape(B, layer.OutputFeatures(I)), -1, 1, new Rng(5));
        var xr = x.Detach().RequireGrad();
        var yAuto = layer.Forward(xr);
        yAuto.Backward(dy);
        var autoParamGrads = layer.Parameters().Select(p => p.Grad!.ToArray()).ToArray();

        foreach (var p in layer.Parameters()) p.Grad!.Data.Clear();
        int O = layer.OutputFeatures(I);
        var y = new float[B * O];
        var dx = new float[B * I];
        layer.ForwardBatch(x.Data, y, B, I);
        layer.BackwardBatch(x.Data, y, dy.Data, dx, B, I);
        Close.All(yAuto.Data, y, 1e-6, 1e-5, "y");
        Close.All(xr.Grad!.Data, dx, 1e-6, 1e-5, "dx");
        var ps = layer.Parameters();
        for (int i = 0; i < ps.Length; i++) Close.All(autoParamGrads[i], ps[i].Grad!.Data, 1e-6, 1e-5, "param");
    }

    [Fact]
    public void Linear_DefaultInit_IsUniformWithinOneOverSqrtIn()
    {
        var l = new Linear(784, 32, new Rng(1));
        float bound = 1 / MathF.Sqrt(784);
        Assert.All(l.Weight.ToArray(), w => Assert.InRange(w, -bound, bound));
        Assert.All(l.Bias!.ToArray(), w => Assert.InRange(w, -bound, bound));
        Assert.True(l.Weight.ToArray().Max() > 0.9f * bound); // spread over the whole interval
        Assert.Equal(new Shape(32, 784), l.Weight.Shape);
    }

    [Fact]
    public void Sequential_NamesParametersAsPyTorch()
    {
        var m = Mlp.Create(784, [32], ActivationKind.Sigmoid, 10, new Rng(1));
        Assert.Equal(["1.weight", "1.bias", "3.weight", "3.bias"], m.NamedParameters().Select(p => p.Name));
        Assert.Equal(784 * 32 + 32 + 32 * 10 + 10, m.Parameters().Sum(p => p.Size));
    }

    [Fact]
    public void Dropout_TrainingZeroesAboutPAndScalesSurvivors_EvalIsIdentity()
    {
        var d = new Dropout(0.25f, new Rng(9));
        var x = Tensor.Ones(100, 100);
        var y = d.Forward(x).ToArray();
        double zeroFraction = y.Count(v => v == 0) / (double)y.Length;
        Assert.InRange(zeroFraction, 0.22, 0.28);
        Assert.All(y.Where(v => v != 0), v => Assert.Equal(1f / 0.75f, v, 5));
        d.Eval();
        Assert.Equal(x.ToArray(), d.Forward(x).ToArray());
    }

    [Fact]
    public void Dropout_ExplicitBackward_UsesTheForwardMask()
    {
        var d = new Dropout(0.5f, new Rng(3));
        d.Prepare(4, 8);
        var x = Close.Random(32, 1, 0.5f, 1f);
        var y = new float[32];
        d.ForwardBatch(x, y, 4, 8);
        var dy = Enumerable.Repeat(1f, 32).ToArray();
        var dx = new float[32];
        d.BackwardBatch(x, y, dy, dx, 4, 8);
        for (int i = 0; i < 32; i++) Assert.Equal(y[i] == 0 ? 0f : 2f, dx[i]);
    }

    [Fact]
    public void Summary_ListsLayersShapesAndCounts()
    {
        var m = Mlp.Create(784, [32], ActivationKind.Sigmoid, 10, new Rng(1));
        var rows = ModelSummary.Rows(m, 784);
        Assert.Equal(["(None, 784)", "(None, 32)", "(None, 32)", "(None, 10)"], rows.Select(r => r.OutputShape));
        Assert.Equal([0L, 25120L, 0L, 330L], rows.Select(r => r.Parameters));
        Assert.Contains("Total params: 25,450", ModelSummary.Format(m, 784));
    }

    [Fact]
    public void BatchEngine_EqualsAutogradOnWholeModel()
    {
        var m = Mlp.Create(12, [7, 5], ActivationKind.Tanh, 4, new Rng(8));
        var x = Tensor.Uniform(new Shape(6, 12), -1, 1, new Rng(9));
        int[] labels = [0, 3, 1, 2, 2, 0];
        var loss = Ops.CrossEntropy(m.Forward(x), labels);
        loss.Backward();
        var auto = m.Parameters().Select(p => p.Grad!.ToArray()).ToArray();
        m.ZeroGrad();

        var engine = new BatchEngine(m, 12, 8);
        var logits = engine.Forward(x.Data.ToArray(), 6).ToArray();
        var dLogits = new float[logits.Length];
        float l = new Losses.CrossEntropyLoss().ForwardBackward(logits, labels, dLogits, 6, 4);
        engine.Backward(dLogits);
        Assert.Equal(loss.Item(), l, 5);
        var ps = m.Parameters();
        for (int i = 0; i < ps.Length; i++) Close.All(auto[i], ps[i].Grad!.Data, 1e-6, 1e-4, $"param {i}");
    }
}
