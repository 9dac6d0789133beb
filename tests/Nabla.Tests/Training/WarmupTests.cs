using Nabla.Compute;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Training;

namespace Nabla.Tests.Training;

[Collection("Serial")]
public class WarmupTests
{
    [Fact]
    public void Warmup_FinishesAndLeavesThePoolAsItFoundIt()
    {
        // The warm-up shares the pool with the real run: it must end with no posted gather left behind (the run's
        // loader could then never post its own) and without leaving the run's context.
        using var context = ComputeContext.Begin(new ComputeSettings { Threads = 2 });
        var pool = context.Pool;
        {
            var failures = new List<Exception>();
            var thread = Warmup.Start(new MlpArchitecture(28 * 28, [32], ActivationKind.Sigmoid, 10), 32,
                [OptimizerKind.Sgd, OptimizerKind.Adam], 28, 28, failures.Add);
            Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "the warm-up did not finish");
            Assert.Empty(failures);
            Assert.Same(context, ComputeContext.Current);
            Assert.False(pool.HasPosted);
            Warmup.Run(new MlpArchitecture(5, [4], ActivationKind.Relu, 3), 8, [OptimizerKind.RmsProp]); // feature vectors
            Assert.False(pool.HasPosted);
        }
    }

    [Fact]
    public void Warmup_ReportsAFailure_InsteadOfSwallowingIt()
    {
        // A shape no kernel accepts: the warm-up fails, says so to its caller, and throws nothing at it.
        Exception? seen = null;
        Warmup.Run(new MlpArchitecture(4, [3], ActivationKind.Relu, 2), 0, [OptimizerKind.Adam], failed: e => seen = e);
        Assert.NotNull(seen);
    }
}
