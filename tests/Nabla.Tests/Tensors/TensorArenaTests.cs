using System.Runtime.CompilerServices;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Autograd;

namespace Nabla.Tests.Tensors;

/// <summary>
/// Gradients are data: a model's parameters live in one aligned arena, their gradients in a second of the same layout,
/// an optimizer's state in more; clearing is one clear and a step one loop, with the same bits as tensor by tensor.
/// </summary>
public class TensorArenaTests
{
    private static unsafe long Address(Tensor t) => (long)Unsafe.AsPointer(ref t.Data[0]);

    [Fact]
    public void Gather_KeepsTheValues_AlignsEachTensor_AndLaysThemOutInOrder()
    {
        var rng = new Rng(1);
        Tensor[] ts = [Tensor.Uniform(new Shape(3, 5), -1, 1, rng), Tensor.Uniform(new Shape(7), -1, 1, rng), Tensor.Uniform(new Shape(2, 2), -1, 1, rng)];
        var before = ts.Select(t => t.ToArray()).ToArray();
        var arena = TensorArena.Gather(ts);
        for (int i = 0; i < ts.Length; i++)
        {
            Assert.Equal(before[i], ts[i].ToArray());
            Assert.Same(ts[i], arena[i]);
            Assert.Equal(0, Address(ts[i]) % 64);
            Assert.Equal(before[i], arena.Data.Slice(arena.OffsetOf(i), ts[i].Size).ToArray());
        }
        Assert.Equal([0, 16, 32], Enumerable.Range(0, 3).Select(arena.OffsetOf));
        Assert.Equal(48, arena.Length);
        Assert.Same(arena, TensorArena.Gather(ts)); // already one arena: the same
        arena[1].Data[0] = 42f;
        Assert.Equal(42f, ts[1].Data[0]); // a view, not a copy
    }

    [Fact]
    public void Like_LinesUpElementForElement()
    {
        var arena = TensorArena.Gather([new Tensor(new Shape(5)), new Tensor(new Shape(17))]);
        var twin = arena.Like();
        Assert.Equal(arena.Length, twin.Length);
        twin[1].Data[3] = 1f;
        Assert.Equal(1f, twin.Data[arena.OffsetOf(1) + 3]);
        Assert.All(arena.Data.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Gather_RefusesViewsTheSameTensorTwiceAndAnotherArenasTensors()
    {
        var t = new Tensor(new Shape(4, 4));
        Assert.Contains("shares its storage", Assert.Throws<ArgumentException>(() => TensorArena.Gather([t.Rows(1, 2)])).Message);
        Assert.Contains("shares its storage", TensorArena.CannotGather([t, t]));
        TensorArena.Gather([t]);
        Assert.Contains("another arena", TensorArena.CannotGather([t, new Tensor(new Shape(2))]));
    }

    [Fact]
    public void AnOptimizer_GathersTheModel_AndGradientsAreViewsOfOneArena()
    {
        var model = Mlp.Create(6, [5], ActivationKind.Sigmoid, 3, new Rng(2));
        var before = model.Parameters().Select(p => p.ToArray()).ToArray();
        var opt = new Adam(model.Parameters());
        var arena = Assert.IsType<TensorArena>(opt.Arena);
        Assert.Same(arena, model.ParameterArena());
        var grads = arena.Gradients!;
        var ps = model.Parameters();
        for (int i = 0; i < ps.Length; i++)
        {
            Assert.Equal(before[i], ps[i].ToArray());
            Assert.True(grads.Holds(ps[i].Grad!, i));
        }
        // Backward accumulates into the arena's views; ZeroGrad is one clear of it.
        var x = Tensor.FromArray([.. Enumerable.Range(0, 12).Select(i => i / 12f)], 2, 6);
        new CrossEntropyLoss().Forward(model.Forward(x), [0, 2]).Backward();
        Assert.Contains(grads.Data.ToArray(), v => v != 0);
        for (int i = 0; i < ps.Length; i++) Assert.True(grads.Holds(ps[i].Grad!, i), "backward replaced an arena gradient");
        opt.ZeroGrad();
        Assert.All(grads.Data.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void AFrozenParameter_GetsNoGradient_AndIsSkipped()
    {
        var a = Tensor.FromArray([1f, 2f]).RequireGrad();
        var frozen = Tensor.FromArray([3f, 4f]); // does not require grad
        var opt = new Sgd([a, frozen], new SgdOptions(0.1f, WeightDecay: 0.5f));
        Assert.Null(frozen.Grad);
        a.Grad!.Data.Fill(1f);
        opt.Step();
        Assert.Equal([3f, 4f], frozen.ToArray());
        Assert.Equal([1L, 0L], opt.Steps);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("rmsprop")]
    [InlineData("adagrad")]
    public void TheWholeArenaStep_IsTheSameBitsAsParameterByParameter(string kind)
    {
        // Two copies of a model trained on the same gradients: one steps the arena in one loop, the other is forced
        // parameter by parameter (its gradients replaced by tensors of their own). Large enough to run in parallel chunks.
        Tensor[] Train(bool whole)
        {
            var model = Mlp.Create(300, [64, 20], ActivationKind.Relu, 10, new Rng(3));
            var ps = model.Parameters();
            var opt = OptimizerFactory.Create(Enum.Parse<OptimizerKind>(kind, true), ps, 0.01f, weightDecay: 0.01f);
            var rng = new Rng(4);
            for (int step = 0; step < 3; step++)
            {
                foreach (var p in ps)
                {
                    var g = Tensor.Uniform(p.Shape, -1, 1, rng);
                    if (whole) g.Data.CopyTo(p.Grad!.Data);
                    else p.Grad = g;
                }
                opt.Step();
            }
            return ps;
        }
        var a = Train(true);
        var b = Train(false);
        for (int i = 0; i < a.Length; i++)
            Assert.Equal(a[i].ToArray().Select(BitConverter.SingleToInt32Bits), b[i].ToArray().Select(BitConverter.SingleToInt32Bits));
    }
}
