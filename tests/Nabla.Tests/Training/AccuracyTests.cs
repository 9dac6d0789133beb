using System.Numerics.Tensors;
using CsCheck;
using Nabla.Tensors.Kernels;
using Nabla.Training;

namespace Nabla.Tests.Training;

public class AccuracyTests
{
    // Values drawn from a small set so that ties, ±0, infinities and NaNs are common.
    private static readonly float[] Pool = [0f, -0f, 1f, -1f, 2.5f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-30f, -1e-30f];

    [Fact]
    public void ArgMaxAndMaxOf_TiesZerosInfinitiesNaNs_SameAsTensorPrimitives() =>
        Gen.Int[0, 12].SelectMany(n => Gen.Int[0, Pool.Length - 1].Array[n]).Sample(picks =>
        {
            var x = picks.Select(i => Pool[i]).ToArray();
            Assert.Equal(TensorPrimitives.IndexOfMax<float>(x), Reductions.ArgMax(x));
            if (x.Length == 0) return;
            float want = TensorPrimitives.Max<float>(x), got = Reductions.MaxOf(x);
            Assert.True(float.IsNaN(want) ? float.IsNaN(got) : BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got), $"max {got} instead of {want}");
        }, iter: 3000);

    [Fact]
    public void CountCorrect_CountsRowsWhoseMaximumIsTheLabel()
    {
        float[] logits = [0.1f, 0.9f, 0f, /**/ 3f, 1f, 2f, /**/ 1f, 1f, 1f];
        Assert.Equal(2, Accuracy.CountCorrect(logits, [1, 0, 2], 3, 3)); // a tie goes to the first index: row 3 says 0
    }
}
