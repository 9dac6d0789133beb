using Nabla.Compute;
using Nabla.Data;
using Nabla.Tensors;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Data;

public class DataLoaderTests
{
    private static TensorDataset Numbers(int n) =>
        new(Enumerable.Range(0, n).Select(i => (float)i).ToArray(), Enumerable.Range(0, n).Select(i => i % 3).ToArray(), 1, ["a", "b", "c"]);

    private static List<int[]> Epoch(DataLoader loader)
    {
        var batches = new List<int[]>();
        foreach (var b in loader) batches.Add(b.Features.Take(b.Size).Select(v => (int)v).ToArray());
        return batches;
    }

    [Fact]
    public void Sequential_VisitsInOrder_LastBatchSmaller()
    {
        var batches = Epoch(new DataLoader(Numbers(10), 4));
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], batches);
    }

    [Fact]
    public void DropLast_SkipsIncompleteBatch()
    {
        var loader = new DataLoader(Numbers(10), 4, dropLast: true);
        Assert.Equal(2, loader.BatchCount);
        Assert.Equal(2, Epoch(loader).Count);
    }

    [Fact]
    public void Shuffled_EachEpochAPermutation_SameSeedSameOrder()
    {
        var a = DataLoader.Shuffled(Numbers(50), 8, new Rng(1));
        var b = DataLoader.Shuffled(Numbers(50), 8, new Rng(1));
        var e1 = Epoch(a).SelectMany(x => x).ToArray();
        var e2 = Epoch(a).SelectMany(x => x).ToArray();
        Assert.Equal(Enumerable.Range(0, 50), e1.Order());
        Assert.NotEqual(e1, e2); // a new permutation each pass
        Assert.Equal(e1, Epoch(b).SelectMany(x => x));
    }

    [Fact]
    public void ExplicitOrder_IsFollowed()
    {
        var loader = new DataLoader(Numbers(4), 3, new IndexSampler([3, 1, 0, 2]));
        Assert.Equal([[3, 1, 0], [2]], Epoch(loader));
    }

    [Fact]
    public void Labels_ComeWithTheirSamples()
    {
        foreach (var b in DataLoader.Shuffled(Numbers(30), 7, new Rng(3)))
            for (int i = 0; i < b.Size; i++) Assert.Equal((int)b.Features[i] % 3, b.Labels[i]);
    }

    [Fact]
    public void RandomSplit_PartitionsTheDataset()
    {
        var (train, val) = Subset.RandomSplit(Numbers(20), 5, new Rng(2));
        Assert.Equal(15, train.Count);
        Assert.Equal(5, val.Count);
        var all = Epoch(new DataLoader(train, 20)).Concat(Epoch(new DataLoader(val, 20))).SelectMany(x => x);
        Assert.Equal(Enumerable.Range(0, 20), all.Order());
    }

    [Fact]
    public void ImageDataset_ToTensorAndNormalize()
    {
        var ds = new ImageDataset([0, 51, 255, 102], [1], 2, 2, ["a", "b"]);
        var x = new float[4]; var y = new int[1];
        ds.Gather([0], x, y);
        Assert.Equal([0f, 0.2f, 1f, 0.4f], x);
        ds.Normalize(0.5f, 0.5f).Gather([0], x, y);
        Close.All([-1f, -0.6f, 1f, -0.2f], x, 1e-6);
        Assert.Equal(1, y[0]);
    }

    [Fact]
    public void ToUnitInterval_EveryByteOnEveryPath_SameBitsAsDivision()
    {
        // 256 values, then shifted by 8 and by 3, so each byte value lands in the 16-wide, the 8-wide and the scalar
        // loop; every result must be the correctly rounded b/255 (the kernel multiplies and corrects with an FMA).
        foreach (int shift in new[] { 0, 8, 3, 13 })
        {
            var bytes = Enumerable.Range(0, 256 + shift).Select(i => (byte)((i - shift) & 255)).ToArray();
            var got = new float[bytes.Length];
            ImageDataset.ToUnitInterval(bytes, got);
            for (int i = 0; i < bytes.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(bytes[i] / 255f) == BitConverter.SingleToInt32Bits(got[i]),
                    $"byte {bytes[i]} at {i}: {got[i]:R} instead of {bytes[i] / 255f:R}");
        }
    }

    /// <summary>Records which thread gathered each batch.</summary>
    private sealed class Watched(IDataset inner, bool anyThread) : IDataset
    {
        public readonly System.Collections.Concurrent.ConcurrentBag<int> Threads = [];
        public int Count => inner.Count;
        public int Features => inner.Features;
        public int Classes => inner.Classes;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public int Label(int index) => inner.Label(index);
        public bool GathersOnAnyThread => anyThread;

        public void Gather(ReadOnlySpan<int> indices, Span<float> features, Span<int> labels)
        {
            Threads.Add(Environment.CurrentManagedThreadId);
            inner.Gather(indices, features, labels);
        }
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    public void GatherAhead_GivesTheSameBatches_AndOnlyMovesGathersThatMayMove(int threads, bool anyThread)
    {
        // Loading each batch after asking for it ahead, for the wrong one, or not at all: the same batches as a plain
        // pass, in every case; a dataset that must be gathered on the caller's thread always is.
        using var pool = new WorkerPool(threads);
        var data = new Watched(Numbers(103), anyThread);
        var plain = DataLoader.Shuffled(data, 8, new Rng(9));
        var ahead = DataLoader.Shuffled(data, 8, new Rng(9));
        for (int epoch = 0; epoch < 3; epoch++)
        {
            plain.BeginPass();
            ahead.BeginPass();
            for (int b = 0; b < plain.BatchCount; b++)
            {
                var want = plain.LoadBatch(b);
                var got = ahead.LoadBatch(b);
                Assert.Equal(want.Size, got.Size);
                Assert.Equal(want.Features.AsSpan(0, want.Size).ToArray(), got.Features.AsSpan(0, got.Size).ToArray());
                Assert.Equal(want.Labels.AsSpan(0, want.Size).ToArray(), got.Labels.AsSpan(0, got.Size).ToArray());
                ahead.GatherAhead(b % 5 == 3 ? b + 2 : b + 1, pool); // sometimes a batch that is not the next one
            }
        }
        ahead.GatherAhead(0, pool);
        ahead.BeginPass(); // a new pass drops what was gathered for the old order
        Assert.False(pool.HasPosted);
        if (!anyThread) Assert.All(data.Threads, t => Assert.Equal(Environment.CurrentManagedThreadId, t));
    }

    [Fact]
    public void GatherAhead_RegressionTargetsComeWithTheirBatch()
    {
        // A regression table's targets are gathered ahead with the features and swapped in with them.
        using var pool = new WorkerPool(2);
        var rng = new Rng(5);
        var data = new RegressionDataset([.. Enumerable.Range(0, 99 * 3).Select(_ => rng.NextSingle())],
            [.. Enumerable.Range(0, 99 * 2).Select(_ => rng.NextSingle())], 3, ["a", "b"]);
        var plain = DataLoader.Shuffled(data, 8, new Rng(6));
        var ahead = DataLoader.Shuffled(data, 8, new Rng(6));
        plain.BeginPass();
        ahead.BeginPass();
        for (int b = 0; b < plain.BatchCount; b++)
        {
            var want = plain.LoadBatch(b);
            var got = ahead.LoadBatch(b);
            Assert.Equal(want.Features.AsSpan(0, want.Size * 3).ToArray(), got.Features.AsSpan(0, got.Size * 3).ToArray());
            Assert.Equal(want.Targets!.AsSpan(0, want.Size * 2).ToArray(), got.Targets!.AsSpan(0, got.Size * 2).ToArray());
            ahead.GatherAhead(b + 1, pool);
            Assert.Equal(b + 1 < plain.BatchCount, pool.HasPosted);
        }
    }

    [Fact]
    public void GatherAhead_TwoThreadsSharingAPool_NeverCollide()
    {
        // A warm-up trains beside the real run on the same pool: each loader's gather-ahead either gets the pool's one
        // posted slot or gathers as usual; no exception, and every batch is right.
        using var pool = new WorkerPool(2);
        var data = Numbers(257);
        void Passes(ulong seed)
        {
            var plain = DataLoader.Shuffled(data, 8, new Rng(seed));
            var ahead = DataLoader.Shuffled(data, 8, new Rng(seed));
            for (int epoch = 0; epoch < 20; epoch++)
            {
                plain.BeginPass();
                ahead.BeginPass();
                for (int b = 0; b < plain.BatchCount; b++)
                {
                    var want = plain.LoadBatch(b);
                    var got = ahead.LoadBatch(b);
                    Assert.Equal(want.Features.AsSpan(0, want.Size).ToArray(), got.Features.AsSpan(0, got.Size).ToArray());
                    ahead.GatherAhead(b + 1, pool);
                    if (b % 4 == 0) pool.For(3, new NoOp()); // jobs release the deferred gathers
                }
            }
        }
        Exception? failed = null;
        var other = new Thread(() =>
        {
            try { Passes(11); }
            catch (Exception e) { failed = e; }
        });
        other.Start();
        Passes(12);
        other.Join();
        Assert.Null(failed);
    }

    private sealed class NoOp : IParallelBody
    {
        public void Run(int index) { }
    }

    [Fact]
    public void Constructor_BatchSizeZero_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Numbers(3), 0));
}
