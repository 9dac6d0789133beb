using System.Numerics.Tensors;
using Nabla.Devices;
using CsCheck;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Tensors;

public class KernelTests
{
    private static readonly Gen<int> Lengths = Gen.Int[0, 256];

    [Fact]
    public void Activations_EveryLength0To256_EqualNaive()
    {
        for (int n = 0; n <= 256; n++)
        {
            var x = Close.Random(n, n, -6, 6);
            var dy = Close.Random(n, n + 1000);
            foreach (var (fast, naive, back, backNaive) in new (Action<float[], float[]>, Action<float[], float[]>, Action<float[], float[], float[]>, Action<float[], float[], float[]>)[]
            {
                ((a, b) => Activations.Sigmoid(a, b), (a, b) => ActivationsNaive.Sigmoid(a, b), (y, d, g) => Activations.SigmoidBackward(y, d, g), (y, d, g) => ActivationsNaive.SigmoidBackward(y, d, g)),
                ((a, b) => Activations.Tanh(a, b), (a, b) => ActivationsNaive.Tanh(a, b), (y, d, g) => Activations.TanhBackward(y, d, g), (y, d, g) => ActivationsNaive.TanhBackward(y, d, g)),
                ((a, b) => Activations.Relu(a, b), (a, b) => ActivationsNaive.Relu(a, b), (y, d, g) => Activations.ReluBackward(y, d, g), (y, d, g) => ActivationsNaive.ReluBackward(y, d, g)),
            })
            {
                var y1 = new float[n]; var y2 = new float[n];
                fast(x, y1); naive(x, y2);
                Close.All(y2, y1, 1e-6, 1e-5);
                var g1 = new float[n]; var g2 = new float[n];
                back(y2, dy, g1); backNaive(y2, dy, g2);
                Close.All(g2, g1, 1e-6, 1e-5);
            }
        }
    }

    [Fact]
    public void ActivationBackwards_VectorWidthsAndScalarTail_SameBits()
    {
        // 16-wide, 8-wide and scalar code compute the same operations: each element's bits must not depend on where
        // it falls (whole 100-element spans against one element at a time, which only the scalar tail sees).
        var y = Close.Random(100, 1, -1, 1);
        var dy = Close.Random(100, 2, -3, 3);
        foreach (var back in new Action<float[], float[], float[]>[]
        {
            (a, d, g) => Activations.SigmoidBackward(a, d, g), (a, d, g) => Activations.TanhBackward(a, d, g), (a, d, g) => Activations.ReluBackward(a, d, g),
        })
        {
            var whole = new float[100];
            back(y, dy, whole);
            for (int i = 0; i < 100; i++)
            {
                var one = new float[1];
                back([y[i]], [dy[i]], one);
                Assert.Equal(BitConverter.SingleToInt32Bits(one[0]), BitConverter.SingleToInt32Bits(whole[i]));
            }
        }
    }

    [Fact]
    public void Sigmoid_EveryLength0To300_SameBitsAsTensorPrimitives()
    {
        // Activations.Sigmoid is TensorPrimitives.Sigmoid's formula, 1/(1 + exp(−x)), through TensorPrimitives.Exp:
        // same bits at every length (vector bodies, masked tails, scalar short spans), extremes and specials included.
        float[] specials = [0f, -0f, 1e-30f, -1e-30f, 88.7f, -88.7f, 104f, -104f, 1e30f, -1e30f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        for (int n = 0; n <= 300; n++)
        {
            var x = Close.Random(n, n + 7, -40, 40);
            for (int i = 0; i < n; i += 5) x[i] = specials[i / 5 % specials.Length];
            var want = new float[n];
            if (n > 0) TensorPrimitives.Sigmoid(x, want);
            var got = new float[n];
            Activations.Sigmoid(x, got);
            Assert.Equal(want.Select(BitConverter.SingleToInt32Bits), got.Select(BitConverter.SingleToInt32Bits));
            Activations.Sigmoid(x, x); // in place
            Assert.Equal(want.Select(BitConverter.SingleToInt32Bits), x.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void Softmax_RandomRows_EqualsNaiveAndRowsSumToOne() =>
        Gen.Select(Gen.Int[1, 5], Gen.Int[1, 40], Gen.Float[0.1f, 60f]).Sample((rows, n, scale) =>
        {
            var x = Close.Random(rows * n, rows * 31 + n, -scale, scale);
            var y1 = new float[x.Length]; var y2 = new float[x.Length];
            Softmax.Rows(x, y1, rows, n);
            SoftmaxNaive.Rows(x, y2, rows, n);
            Close.All(y2, y1, 1e-6, 1e-4);
            for (int r = 0; r < rows; r++) Assert.Equal(1.0, y1.Skip(r * n).Take(n).Sum(v => (double)v), 4);
            Softmax.LogRows(x, y1, rows, n);
            SoftmaxNaive.LogRows(x, y2, rows, n);
            Close.All(y2, y1, 1e-4, 1e-5);
        }, iter: 200);

    [Fact]
    public void Softmax_HugeLogits_StaysFinite()
    {
        var y = new float[3];
        Softmax.Rows([1000f, 1000f, -1000f], y, 1, 3);
        Assert.Equal([0.5f, 0.5f, 0f], y);
    }

    [Fact]
    public void CrossEntropy_RandomBatches_EqualsNaiveAndLossNonNegative() =>
        Gen.Select(Gen.Int[1, 17], Gen.Int[2, 12], Gen.Float[0f, 0.3f]).Sample((rows, classes, smooth) =>
        {
            var x = Close.Random(rows * classes, rows + classes * 100, -5, 5);
            var t = new int[rows];
            for (int r = 0; r < rows; r++) t[r] = (r * 7 + 3) % classes;
            var g1 = new float[x.Length]; var g2 = new float[x.Length];
            float l1 = CrossEntropy.ForwardBackward(x, t, g1, rows, classes, smooth);
            float l2 = CrossEntropyNaive.ForwardBackward(x, t, g2, rows, classes, smooth);
            Assert.True(l1 >= 0);
            Assert.True(Math.Abs(l2 - l1) <= 1e-5 * (1 + Math.Abs(l2)), $"loss {l1} vs naive {l2}");
            Close.All(g2, g1, 1e-6, 1e-4);
        }, iter: 200);

    [Fact]
    public void CrossEntropy_BatchedTrainingPath_SameBitsAsRowByRow() =>
        Gen.Select(Gen.Int[1, 40], Gen.Int[1, 37], Gen.Float[0f, 0.3f]).Sample((rows, classes, smooth) =>
        {
            // The training path takes the batch's exponentials in one call; the row-by-row arithmetic it replaced
            // (one library call per operation per row) is rebuilt here: loss and gradient must be the same bits.
            var x = Close.Random(rows * classes, rows * 31 + classes, -30, 30);
            var t = new int[rows];
            for (int r = 0; r < rows; r++) t[r] = (r * 5 + 1) % classes;
            var got = new float[x.Length];
            float loss = CrossEntropy.ForwardBackward(x, t, got, rows, classes, smooth);
            var want = new float[x.Length];
            double total = 0;
            float inv = 1f / rows, off = smooth / classes;
            for (int r = 0; r < rows; r++)
            {
                var row = x.AsSpan(r * classes, classes);
                var p = want.AsSpan(r * classes, classes);
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, p);
                TensorPrimitives.Exp(p, p);
                float sum = TensorPrimitives.Sum(p);
                total += max + MathF.Log(sum) - ((1 - smooth) * row[t[r]] + (smooth == 0 ? 0 : off * TensorPrimitives.Sum(row)));
                TensorPrimitives.Multiply(p, inv / sum, p);
                if (smooth != 0) TensorPrimitives.Subtract(p, off * inv, p);
                p[t[r]] -= (1 - smooth) * inv;
            }
            Assert.Equal(BitConverter.SingleToInt32Bits((float)(total / rows)), BitConverter.SingleToInt32Bits(loss));
            Assert.Equal(want.Select(BitConverter.SingleToInt32Bits), got.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(loss, CrossEntropy.ForwardBackward(x, t, [], rows, classes, smooth)); // the evaluation path agrees
        }, iter: 300);

    [Fact]
    public void CrossEntropy_LabelOutOfRange_NamesIndexAndValue()
    {
        var e = Assert.Throws<ArgumentException>(() => CrossEntropy.ForwardBackward(new float[6], [1, 12], new float[6], 2, 3));
        Assert.Contains("Target 12 at index 1", e.Message);
        Assert.Contains("[0, 3)", e.Message);
    }

    [Fact]
    public void Broadcasting_FastPaths_EqualGeneralLoop()
    {
        var cases = new (int[] A, int[] B)[]
        {
            ([4, 5], [4, 5]), ([4, 5], [5]), ([4, 5], [1, 5]), ([4, 5], []), ([], [3, 2]), ([3, 1], [1, 4]),
            ([2, 3, 4], [3, 1]), ([2, 1, 4], [2, 3, 1]), ([5], [3, 1]), ([2, 2, 2, 2], [2]),
        };
        foreach (var (sa, sb) in cases)
            foreach (BinaryOp op in Enum.GetValues<BinaryOp>())
            {
                var a = new Shape(sa); var b = new Shape(sb);
                var d = Shape.Broadcast(a, b);
                var x = Close.Random(a.Size, 1, 0.5f, 2f); var y = Close.Random(b.Size, 2, 0.5f, 2f);
                var r1 = new float[d.Size]; var r2 = new float[d.Size];
                Broadcasting.Binary(op, x, a, y, b, r1, d);
                BroadcastingNaive.Binary(op, x, a, y, b, r2, d);
                Close.All(r2, r1, 0, 0, $"{op} {a} {b}");
                var g1 = new float[b.Size]; var g2 = new float[b.Size];
                Broadcasting.ReduceTo(r1, d, g1, b);
                BroadcastingNaive.ReduceTo(r1, d, g2, b);
                Close.All(g2, g1, 1e-5, 1e-5, $"reduce {d}->{b}");
            }
    }

    [Fact]
    public void Shape_Broadcast_IncompatibleShapes_NamesBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => Shape.Broadcast(new Shape(3, 4), new Shape(5)));
        Assert.Contains("(3, 4)", e.Message);
        Assert.Contains("(5,)", e.Message);
    }

    [Fact]
    public void Reductions_AddRows_SameBitsAsAddingRowByRow() =>
        Gen.Select(Gen.Int[0, 40], Gen.Int[1, 75]).Sample((rows, cols) =>
        {
            var x = Close.Random(rows * cols, rows * 100 + cols, -3, 3);
            var start = Close.Random(cols, cols, -1, 1);
            var want = (float[])start.Clone();
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(want, x.AsSpan(r * cols, cols), want);
            var got = (float[])start.Clone();
            Reductions.AddRows(x, rows, cols, got);
            Assert.Equal(want.Select(BitConverter.SingleToInt32Bits), got.Select(BitConverter.SingleToInt32Bits));
        }, iter: 300);

    [Fact]
    public void Reductions_Sum_EqualsLoop() =>
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 70], Gen.Int[1, 5]).Sample((outer, n, inner) =>
        {
            var x = Close.Random(outer * n * inner, n);
            var d = new float[outer * inner];
            Reductions.Sum(x, d, outer, n, inner);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += x[(o * n + j) * inner + i];
                    Assert.True(Math.Abs(s - d[o * inner + i]) <= 1e-5 * (1 + Math.Abs(s)), $"{s} vs {d[o * inner + i]}");
                }
        }, iter: 100);
}
