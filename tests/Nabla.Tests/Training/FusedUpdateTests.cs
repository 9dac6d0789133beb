using Nabla.Autograd;
using Nabla.Compute;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Tests.Training;

/// <summary>The optimizer's step taken inside the backward pass must be the step taken after it, bit for bit.</summary>
[Collection("Serial")]
public class FusedUpdateTests
{
    private const int Inputs = 100, Classes = 10; // 100 columns: two 48-wide tiles and a 4-column edge

    private static Optimizer Make(string config, Tensor[] p) => config switch
    {
        "sgd" => new Sgd(p, new SgdOptions(0.05f)),
        "sgd_nesterov_wd" => new Sgd(p, new SgdOptions(0.05f, Momentum: 0.9f, Nesterov: true, WeightDecay: 0.01f)),
        "adam" => new Adam(p),
        "adamw_amsgrad" => new AdamW(p, new AdamOptions(0.01f, WeightDecay: 0.1f, Amsgrad: true)),
        "rmsprop_centered" => new RmsProp(p, new RmsPropOptions(0.01f, Centered: true, Momentum: 0.9f)),
        _ => new Adagrad(p, new AdagradOptions(0.1f, LrDecay: 0.1f)) { L1Penalty = 0.01f },
    };

    private static (float[] X, int[] Y) Batch(int batch, int step)
    {
        var x = Testing.Close.Random(batch * Inputs, 100 + step, -1, 1);
        var y = Enumerable.Range(0, batch).Select(i => (i * 7 + step) % Classes).ToArray();
        return (x, y);
    }

    [Theory]
    [InlineData("sgd", 32, 2)]   // k = 32: the outer-product GEMM, the update inside its row-block parts
    [InlineData("sgd", 32, 1)]
    [InlineData("sgd_nesterov_wd", 32, 2)]
    [InlineData("adam", 32, 2)]
    [InlineData("adamw_amsgrad", 20, 2)]
    [InlineData("rmsprop_centered", 32, 2)]
    [InlineData("adagrad_l1", 32, 2)]
    [InlineData("adam", 100, 2)] // k = 100: the packed GEMM, the update once the whole gradient is done
    public void FusedStep_SameBitsAsBackwardThenStep(string config, int batch, int threads)
    {
        using (ComputeContext.Begin(new ComputeSettings { Threads = threads }))
        {
            // 37 hidden units: four 8-row parts and a 5-row edge part.
            var separate = Mlp.Create(Inputs, [37, 24], ActivationKind.Sigmoid, Classes, new Rng(7));
            var fused = Mlp.Create(Inputs, [37, 24], ActivationKind.Sigmoid, Classes, new Rng(7));
            var optA = Make(config, separate.Parameters());
            var optB = Make(config, fused.Parameters());
            var engineA = new ExplicitEngine(separate, new CrossEntropyLoss(), Inputs, batch);
            var engineB = new ExplicitEngine(fused, new CrossEntropyLoss(), Inputs, batch);
            var update = new FusedUpdate(optB);
            for (int step = 0; step < 4; step++)
            {
                var (x, y) = Batch(batch, step);
                var a = engineA.Run(x, y, batch, backward: true);
                optA.Step();
                var b = engineB.Run(x, y, batch, backward: true, update);
                Assert.Equal(a, b);
            }
            var pa = separate.Parameters();
            var pb = fused.Parameters();
            for (int i = 0; i < pa.Length; i++)
            {
                Assert.Equal(pa[i].ToArray().Select(BitConverter.SingleToInt32Bits), pb[i].ToArray().Select(BitConverter.SingleToInt32Bits));
                Assert.Equal(pa[i].Grad!.ToArray().Select(BitConverter.SingleToInt32Bits), pb[i].Grad!.ToArray().Select(BitConverter.SingleToInt32Bits));
            }
            Assert.Equal(optA.Steps, optB.Steps);
            foreach (var ((name, bufA), (_, bufB)) in optA.State().Zip(optB.State()))
                for (int i = 0; i < bufA.Count; i++) Assert.True(bufA[i].ToArray().SequenceEqual(bufB[i].ToArray()), $"{name}[{i}] differs");
        }
    }

    [Fact]
    public void Trainer_FusesOnlyWhenTheOptimizerHoldsExactlyTheModelsParameters()
    {
        var model = Mlp.Create(Inputs, [16], ActivationKind.Sigmoid, Classes, new Rng(3));
        var all = model.Parameters();
        Assert.True(FusedUpdate.Covers(new Sgd(all), all));
        Assert.False(FusedUpdate.Covers(new Sgd(all[2..]), all));         // fine-tuning the last layer only
        Assert.False(FusedUpdate.Covers(new Sgd([all[0], all[0], all[1], all[2]]), all)); // a parameter twice

        // Only the last layer is trained: the first must not move, as with backward(); step().
        var first = all[0].ToArray();
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(all[2..], new SgdOptions(0.1f)), Inputs, 8);
        var (x, y) = Batch(8, 0);
        trainer.Step(x, y, 8);
        Assert.Equal(first, all[0].ToArray());
        Assert.NotEqual(0f, all[2].Grad!.ToArray().Select(Math.Abs).Max());
    }

    [Fact]
    public void SharedLayer_GradientsAddOverBothUses_AndTheStepIsNotFused()
    {
        // One Linear used twice (tied weights): its gradient is the sum over both uses, so a backward pass may not
        // write it afresh at the second use, nor update it after the first. Checked against autograd.
        var inner = new Linear(12, 12, new Rng(5));
        Sequential Model() => new(new Linear(Inputs, 12, new Rng(4)), new Sigmoid(), inner, new Sigmoid(), inner, new Sigmoid(), new Linear(12, Classes, new Rng(6)));
        var model = Model();
        var engine = new ExplicitEngine(model, new CrossEntropyLoss(), Inputs, 8);
        Assert.False(engine.CanFuseUpdate);
        var (x, y) = Batch(8, 1);
        engine.Run(x, y, 8, backward: true);
        var explicitGrad = inner.Weight.Grad!.ToArray();

        inner.Weight.Grad!.Data.Clear();
        foreach (var p in model.Parameters()) p.Grad = null;
        var logits = model.Forward(Tensor.FromArray(x, 8, Inputs));
        new CrossEntropyLoss().Forward(logits, y).Backward();
        Testing.Close.All(inner.Weight.Grad!.ToArray(), explicitGrad, 1e-6, 1e-4);
    }
}
