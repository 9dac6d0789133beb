using Nabla.NN;
using Nabla.Tensors;

namespace Nabla.Tests.NN;

/// <summary>
/// A block of micro-shards ("leaves") through <see cref="BatchEngine"/>: every row's output and each parameter's
/// gradient have the same bits whether the leaves are computed one at a time, in pairs, or all in one block — what
/// lets 1, 2 or 4 MPI processes train the same bits (the cross-process half of the tree is MpiWorld's).
/// </summary>
public class LeafTreeTests
{
    [Theory]
    [InlineData(256, 4)]   // 64-row leaves: the forward's GEMM chosen as for 64 rows in a block of 256
    [InlineData(64, 4)]    // 16-row leaves: dot-product forward, short-k weight gradients
    [InlineData(101, 4)]   // uneven leaves (25, 25, 25, 26)
    [InlineData(1300, 4)]  // 325-row leaves: past one GEMM accumulation, pairs summed apart
    [InlineData(96, 8)]
    public void Leaves_InOneBlock_InPairs_OrAlone_GiveTheSameBits(int size, int leaves)
    {
        var starts = Enumerable.Range(0, leaves + 1).Select(j => (int)((long)j * size / leaves)).ToArray();
        int rowsLike = (size + leaves - 1) / leaves;
        var rng = new Rng(7);
        var x = Enumerable.Range(0, size * 20).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
        var dOut = Enumerable.Range(0, size * 5).Select(_ => rng.NextSingle() - 0.5f).ToArray();

        var (whole, wholeOut) = Blocks(x, dOut, starts, rowsLike, per: leaves);
        var (pairs, pairsOut) = Blocks(x, dOut, starts, rowsLike, per: leaves / 2);
        var (alone, aloneOut) = Blocks(x, dOut, starts, rowsLike, per: 1);

        Assert.Equal(aloneOut, wholeOut);
        Assert.Equal(aloneOut, pairsOut);
        for (int p = 0; p < alone.Length; p++)
        {
            Assert.Equal(alone[p], whole[p]);
            Assert.Equal(alone[p], pairs[p]);
        }
    }

    [Fact]
    public void OneLeaf_IsThePlainBackward()
    {
        var rng = new Rng(3);
        var x = Enumerable.Range(0, 48 * 20).Select(_ => rng.NextSingle()).ToArray();
        var dOut = Enumerable.Range(0, 48 * 5).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        var model = Model();
        var engine = new BatchEngine(model, 20, 48);
        engine.Forward(x, 48);
        engine.Backward(dOut);
        var plain = model.Parameters().Select(p => p.Grad!.Data.ToArray()).ToArray();
        var (leaf, _) = Blocks(x, dOut, [0, 48], rowsLike: 0, per: 1);
        for (int p = 0; p < plain.Length; p++) Assert.Equal(plain[p], leaf[p]);
    }

    /// <summary>
    /// Runs the leaves in blocks of <paramref name="per"/>, each block's gradient summed in its own tree, and the
    /// blocks' sums added pairwise up the rest of the tree (as recursive doubling does across processes).
    /// </summary>
    private static (float[][] Gradients, float[] Outputs) Blocks(float[] x, float[] dOut, int[] starts, int rowsLike, int per)
    {
        int leaves = starts.Length - 1;
        var outputs = new float[starts[^1] * 5];
        var sums = new List<float[][]>();
        for (int first = 0; first < leaves; first += per)
        {
            var model = Model();
            int r0 = starts[first], rows = starts[first + per] - r0;
            var engine = new BatchEngine(model, 20, rows);
            var output = engine.Forward(x[(r0 * 20)..((r0 + rows) * 20)], rows, rowsLike);
            output.CopyTo(outputs.AsSpan(r0 * 5));
            var local = starts[first..(first + per + 1)].Select(s => s - r0).ToArray();
            engine.BackwardLeaves(dOut.AsSpan(r0 * 5, rows * 5), local, sink: null);
            sums.Add([.. model.Parameters().Select(p => p.Grad!.Data.ToArray())]);
        }
        while (sums.Count > 1) // the rest of the tree: neighbouring subtrees added, level by level
            sums = [.. Enumerable.Range(0, sums.Count / 2).Select(i => sums[2 * i].Zip(sums[2 * i + 1], (a, b) => a.Zip(b, (u, v) => u + v).ToArray()).ToArray())];
        return (sums[0], outputs);
    }

    /// <summary>The same weights every time (seeded): 20-48-48-5, ReLU, with biases.</summary>
    private static Sequential Model()
    {
        var rng = new Rng(11);
        return new Sequential(new Linear(20, 48, rng), new Relu(), new Linear(48, 48, rng), new Relu(), new Linear(48, 5, rng));
    }
}
