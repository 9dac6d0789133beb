using Nabla.Autograd;
using Nabla.Tensors;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Autograd;

/// <summary>A finite-difference check for every differentiable operation.</summary>
public class OpGradientTests
{
    private static Tensor R(params int[] shape) => Tensor.Uniform(new Shape(shape), -1f, 1f, new Rng((ulong)(shape.Sum() * 31 + shape.Length)));
    private static Tensor Pos(params int[] shape) => Tensor.Uniform(new Shape(shape), 0.5f, 2f, new Rng((ulong)shape.Sum()));

    [Theory]
    [InlineData(new[] { 3, 4 }, new[] { 3, 4 })]
    [InlineData(new[] { 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 3, 1 }, new[] { 1, 4 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 3, 1 })]
    [InlineData(new int[0], new[] { 2, 2 })]
    public void Binary_Broadcasting_GradientsMatchFiniteDifferences(int[] sa, int[] sb)
    {
        GradCheck.Check(t => t[0].Add(t[1]), [R(sa), R(sb)]);
        GradCheck.Check(t => t[0].Sub(t[1]), [R(sa), R(sb)]);
        GradCheck.Check(t => t[0].Mul(t[1]), [R(sa), R(sb)]);
        GradCheck.Check(t => t[0].Div(t[1]), [R(sa), Pos(sb)]);
    }

    [Fact]
    public void Unary_GradientsMatchFiniteDifferences()
    {
        GradCheck.Check(t => t[0].Exp(), [R(3, 4)]);
        GradCheck.Check(t => t[0].Log(), [Pos(3, 4)]);
        GradCheck.Check(t => t[0].Sigmoid(), [R(3, 4)]);
        GradCheck.Check(t => t[0].Tanh(), [R(3, 4)]);
        GradCheck.Check(t => t[0].Neg(), [R(5)]);
        GradCheck.Check(t => t[0].Square(), [R(5)]);
    }

    [Fact]
    public void AbsSqrtPow_GradientsMatchFiniteDifferences()
    {
        GradCheck.Check(t => t[0].Abs(), [R(3, 4)]);
        GradCheck.Check(t => t[0].Sqrt(), [Pos(3, 4)]);
        GradCheck.Check(t => t[0].Pow(3f), [R(3, 4)]);
        GradCheck.Check(t => t[0].Pow(-0.5f), [Pos(5)]);
        GradCheck.Check(t => t[0].Pow(2f), [R(5)]);
        Assert.Equal([2f, 0f, 3f], Tensor.FromArray([-2f, 0f, 3f]).Abs().ToArray());
        Assert.Equal([3f, 4f], Tensor.FromArray([9f, 16f]).Sqrt().ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void CatStackSlice_GradientsMatchFiniteDifferences(int dim)
    {
        GradCheck.Check(t => Ops.Cat([t[0], t[1]], dim), [R(2, 3), dim == 0 ? R(4, 3) : R(2, 5)]);
        GradCheck.Check(t => Ops.Stack([t[0], t[1], t[2]], dim == -1 ? 2 : dim), [R(2, 3), R(2, 3), R(2, 3)]);
        GradCheck.Check(t => t[0].Slice(dim, 1, 2), [R(4, 5)]);
        GradCheck.Check(t => t[0].Slice(1, 1, 2), [R(2, 4, 3)]);
    }

    [Fact]
    public void CatStackSlice_Values()
    {
        var a = Tensor.FromRows([[1f, 2f], [3f, 4f]]);
        var b = Tensor.FromRows([[5f], [6f]]);
        Assert.Equal([1f, 2f, 5f, 3f, 4f, 6f], Ops.Cat([a, b], 1).ToArray());
        Assert.Equal(new Shape(2, 2, 2), Ops.Stack([a, a], 1).Shape);
        Assert.Equal([1f, 2f, 1f, 2f, 3f, 4f, 3f, 4f], Ops.Stack([a, a], 1).ToArray());
        Assert.Equal([2f, 4f], a.Slice(1, 1, 1).ToArray());
        Assert.Throws<ArgumentException>(() => Ops.Cat([a, Tensor.Zeros(3, 3)], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Slice(1, 1, 5));
    }

    [Fact]
    public void Relu_AwayFromKink_GradientMatchesFiniteDifferences()
    {
        var x = Tensor.FromArray([-1.5f, -0.3f, 0.2f, 0.9f, 2f, -2f]);
        GradCheck.Check(t => t[0].Relu(), [x]);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void MatMul_EveryTranspose_GradientsMatchFiniteDifferences(bool ta, bool tb)
    {
        var a = ta ? R(5, 3) : R(3, 5);
        var b = tb ? R(4, 5) : R(5, 4);
        GradCheck.Check(t => t[0].MatMul(t[1], ta, tb), [a, b]);
    }

    [Fact]
    public void MatMul_Vectors_GradientsMatchFiniteDifferences()
    {
        GradCheck.Check(t => t[0].MatMul(t[1]), [R(2, 3), R(3)]);
        GradCheck.Check(t => t[0].MatMul(t[1]), [R(3), R(3, 2)]);
        GradCheck.Check(t => t[0].MatMul(t[1]), [R(4), R(4)]);
        GradCheck.Check(t => t[0].Dot(t[1]), [R(4), R(4)]);
        GradCheck.Check(t => t[0].Outer(t[1]), [R(3), R(2)]);
    }

    [Fact]
    public void Reductions_GradientsMatchFiniteDifferences()
    {
        GradCheck.Check(t => t[0].Sum(), [R(3, 4)]);
        GradCheck.Check(t => t[0].Sum(0), [R(3, 4)]);
        GradCheck.Check(t => t[0].Sum(1, keepDim: true), [R(3, 4)]);
        GradCheck.Check(t => t[0].Sum(1), [R(2, 3, 4)]);
        GradCheck.Check(t => t[0].Mean(), [R(3, 4)]);
        GradCheck.Check(t => t[0].Mean(0), [R(3, 4)]);
        GradCheck.Check(t => t[0].Max(1), [Tensor.FromArray([1f, 5f, 3f, 9f, 2f, 4f], 2, 3)]);
        GradCheck.Check(t => t[0].Max(0), [Tensor.FromArray([1f, 5f, 3f, 9f, 2f, 4f], 2, 3)]);
    }

    [Fact]
    public void Softmax_BothAxes_GradientsMatchFiniteDifferences()
    {
        GradCheck.Check(t => t[0].Softmax(-1), [R(3, 4)]);
        GradCheck.Check(t => t[0].Softmax(0), [R(3, 4)]);
        GradCheck.Check(t => t[0].LogSoftmax(-1), [R(3, 4)]);
        GradCheck.Check(t => t[0].LogSoftmax(0), [R(3, 4)]);
        GradCheck.Check(t => t[0].Softmax(0), [R(5)]);
    }

    [Fact]
    public void KronAndDiag_GradientsMatchFiniteDifferences()
    {
        GradCheck.Check(t => t[0].Kron(t[1]), [R(2, 3), R(2, 2)]);
        GradCheck.Check(t => t[0].Kron(t[1]), [R(1, 2), R(1, 3)]);
        GradCheck.Check(t => t[0].Kron(t[1]), [R(3), R(2)]);
        GradCheck.Check(t => t[0].Diag(), [R(4)]);
        GradCheck.Check(t => t[0].Diag(), [R(3, 4)]);
    }

    [Fact]
    public void ShapeOps_GradientsMatchFiniteDifferences()
    {
        GradCheck.Check(t => t[0].Reshape(4, 3).Mul(t[1]), [R(3, 4), R(4, 3)]);
        GradCheck.Check(t => t[0].Reshape(-1), [R(2, 3, 2)]);
        GradCheck.Check(t => t[0].Rows(1, 2).Exp(), [R(4, 3)]);
        GradCheck.Check(t => t[0].Transpose().MatMul(t[1]), [R(3, 2), R(3, 4)]);
        GradCheck.Check(t => t[0].Unsqueeze(0).Sigmoid(), [R(3)]);
        GradCheck.Check(t => t[0].Flatten(1), [R(2, 3, 4)]);
    }

    [Fact]
    public void Losses_GradientsMatchFiniteDifferences()
    {
        int[] y = [2, 0, 1];
        GradCheck.Check(t => Ops.CrossEntropy(t[0], y), [R(3, 4)]);
        GradCheck.Check(t => Ops.CrossEntropy(t[0], y, 0.1f), [R(3, 4)]);
        GradCheck.Check(t => Ops.NllLoss(t[0].LogSoftmax(-1), y), [R(3, 4)]);
        GradCheck.Check(t => new Losses.MseLoss().Forward(t[0], t[1]), [R(3, 4), R(3, 4)]);
        GradCheck.Check(t => Ops.Linear(t[0], t[1], t[2]), [R(5, 3), R(4, 3), R(4)]);
    }

    [Fact]
    public void CrossEntropy_EqualsComposedLogSoftmaxNll()
    {
        var x = R(4, 5);
        int[] y = [0, 4, 2, 2];
        var fused = Ops.CrossEntropy(x, y).Item();
        var composed = Ops.NllLoss(x.LogSoftmax(-1), y).Item();
        Assert.Equal(composed, fused, 5);
    }
}
