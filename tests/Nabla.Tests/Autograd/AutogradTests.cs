using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.Tests.Autograd;

public class AutogradTests
{
    [Fact]
    public void Backward_TensorUsedTwice_AccumulatesBothPaths()
    {
        var x = Tensor.FromArray([3f]).RequireGrad();
        var y = x.Mul(x).Add(x); // y = x² + x, dy/dx = 2x + 1 = 7
        y.Sum().Backward();
        Assert.Equal(7f, x.Grad!.Item());
    }

    [Fact]
    public void Backward_Twice_AccumulatesIntoGrad()
    {
        var x = Tensor.FromArray([2f]).RequireGrad();
        x.Square().Sum().Backward();
        x.Square().Sum().Backward();
        Assert.Equal(8f, x.Grad!.Item()); // 2·(2x) = 8
        x.ZeroGrad();
        Assert.Null(x.Grad);
    }

    [Fact]
    public void Backward_SameGraphTwice_Throws()
    {
        var x = Tensor.FromArray([2f]).RequireGrad();
        var y = x.Square().Sum();
        y.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("second time", e.Message);
    }

    [Fact]
    public void Backward_NonScalarWithoutGradient_Throws()
    {
        var x = Tensor.FromArray([1f, 2f]).RequireGrad();
        var e = Assert.Throws<InvalidOperationException>(() => x.Exp().Backward());
        Assert.Contains("(2,)", e.Message);
    }

    [Fact]
    public void Backward_ExplicitUpstreamGradient_IsVectorJacobianProduct()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        var y = x.Mul(Tensor.FromArray([10f, 20f, 30f]));
        y.Backward(Tensor.FromArray([1f, 0.5f, 2f]));
        Assert.Equal([10f, 10f, 60f], x.Grad!.ToArray());
    }

    [Fact]
    public void NoGrad_RecordsNothing()
    {
        var x = Tensor.FromArray([1f]).RequireGrad();
        Tensor y;
        using (GradMode.NoGrad()) y = x.Exp();
        Assert.True(y.IsLeaf);
        Assert.False(y.RequiresGrad);
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void Detach_StopsGradient()
    {
        var x = Tensor.FromArray([2f]).RequireGrad();
        var y = x.Mul(x.Detach());
        y.Sum().Backward();
        Assert.Equal(2f, x.Grad!.Item()); // only the non-detached factor contributes
    }

    [Fact]
    public void Backward_NoGradFnAndNoRequiresGrad_Throws() =>
        Assert.Throws<InvalidOperationException>(() => Tensor.FromArray([1f]).Backward());

    [Fact]
    public void Reshape_IsViewSharingStorage()
    {
        var x = Tensor.Arange(0, 6);
        var v = x.Reshape(2, 3);
        v[1, 2] = 42f;
        Assert.Equal(42f, x[5]);
        var rows = v.Rows(1, 1);
        rows[0, 0] = 7f;
        Assert.Equal(7f, x[3]);
    }

    [Fact]
    public void MatMul_MisalignedShapes_NamesBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).MatMul(Tensor.Zeros(4, 5)));
        Assert.Contains("(2, 3)", e.Message);
        Assert.Contains("(4, 5)", e.Message);
    }

    [Fact]
    public void Add_IncompatibleShapes_NamesBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Add(Tensor.Zeros(2)));
        Assert.Contains("(2, 3)", e.Message);
        Assert.Contains("(2,)", e.Message);
    }

    [Fact]
    public void Reshape_WrongSize_NamesBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Reshape(4, 2));
        Assert.Contains("(2, 3)", e.Message);
        Assert.Contains("(4, 2)", e.Message);
    }

    [Fact]
    public void Linear_WrongInputShape_NamesBoth()
    {
        var layer = new Nabla.NN.Linear(3, 2, new Rng(1));
        var e = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(4, 5)));
        Assert.Contains("(4, 5)", e.Message);
        Assert.Contains("(batch, 3)", e.Message);
    }

    [Fact]
    public void Creation_ShapesAndValues()
    {
        Assert.Equal([0f, 0.5f, 1f, 1.5f], Tensor.Arange(0, 2, 0.5f).ToArray());
        Assert.Equal(new Shape(2, 3), Tensor.Ones(2, 3).Shape);
        Assert.All(Tensor.Ones(2, 3).ToArray(), v => Assert.Equal(1f, v));
        var u = Tensor.Uniform(new Shape(1000), -2, 3, new Rng(5));
        Assert.All(u.ToArray(), v => Assert.InRange(v, -2f, 3f));
        Assert.Equal(u.ToArray(), Tensor.Uniform(new Shape(1000), -2, 3, new Rng(5)).ToArray());
        var n = Tensor.Normal(new Shape(20000), 1f, 2f, new Rng(6)).ToArray();
        Assert.InRange(n.Average(), 0.95, 1.05);
        Assert.Equal(0f, Tensor.Scalar(0f).Item());
        Assert.Equal(0, Tensor.Scalar(3f).Rank);
        Assert.Throws<ArgumentException>(() => new Shape(1, 2, 3, 4, 5));
    }

    [Fact]
    public void ArgMax_PicksFirstMaximum()
    {
        var x = Tensor.FromArray([1f, 3f, 3f, 0f, -1f, 2f], 2, 3);
        Assert.Equal([1, 2], x.ArgMax(1));
        Assert.Equal([0, 0, 0], x.ArgMax(0));
    }
}
