using System.Numerics.Tensors;
using System.Diagnostics;
using Nabla.Compute;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;
using Nabla.Training;

namespace Nabla.Bench;

/// <summary>
/// `quick`: a fast Stopwatch sweep used while tuning (minimum of repeated runs), not a substitute for the
/// BenchmarkDotNet figures. Prints GEMM GFLOP/s at the recorded shapes and µs per training step. Run it as the CLI
/// runs, with tiered compilation off (<c>DOTNET_TieredCompilation=0</c>): with it on, the first seconds time tier-0 code.
/// </summary>
public static class Quick
{
    public static void Run(int threads)
    {
        using var context = ComputeContext.Begin(new ComputeSettings { Threads = threads });
        var pool = context.Pool;
        Console.WriteLine($"threads {threads}, Vector256 {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
        var empty = new EmptyBody();
        double forCost = Time(() => pool.For(threads, empty), 0);
        Console.WriteLine($"pool.For({threads}) empty: {forCost * 1e6:F2} us");
        unsafe
        {
            var pa = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(6 * 256 * 4, 64);
            var pb = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(16 * 256 * 4, 64);
            var pc = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(6 * 16 * 4, 64);
            for (int i = 0; i < 6 * 256; i++) pa[i] = 0.001f * (i % 7);
            for (int i = 0; i < 16 * 256; i++) pb[i] = 0.001f * (i % 5);
            double mk = Time(() => { for (int r = 0; r < 100; r++) GemmMicroKernel.Run(256, pa, pb, pc, 16, 6, 16, 1f, 1f); }, 0) / 100;
            Console.WriteLine($"micro-kernel 6x16x256 in cache: {2.0 * 6 * 16 * 256 / mk / 1e9:F1} GFLOP/s");
        }
        foreach (var (m, n, k, ta, tb) in new[] { (1024, 1024, 1024, false, false), (256, 1024, 784, false, true), (32, 32, 784, false, true), (32, 784, 32, true, false), (256, 784, 1024, false, false) })
        {
            var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
            new Random(1).NextBytes(new byte[1]);
            for (int i = 0; i < a.Length; i++) a[i] = (i % 17) * 0.01f;
            for (int i = 0; i < b.Length; i++) b[i] = (i % 13) * 0.01f;
            double best = Time(() => Gemm.Run(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, 0f, c, n, pool), flopsHint: 2.0 * m * n * k);
            Console.WriteLine($"gemm {m}x{n}x{k} ta={ta} tb={tb}: {best * 1e6:F1} us, {2.0 * m * n * k / best / 1e9:F1} GFLOP/s");
        }
        foreach (var (hidden, act, batch, opt) in new[] { (new[] { 32 }, ActivationKind.Sigmoid, 32, OptimizerKind.Sgd), (new[] { 32 }, ActivationKind.Sigmoid, 32, OptimizerKind.Adam), (new[] { 1024, 1024 }, ActivationKind.Relu, 256, OptimizerKind.Adam) })
        {
            var (trainer, x, y) = Step(hidden, act, batch, opt);
            double best = Time(() => trainer.Step(x, y, batch), 0);
            Console.WriteLine($"step 784-{string.Join('-', hidden)}-10 {act} batch {batch} {opt}: {best * 1e6:F1} us");
            var engine = new BatchEngine((Sequential)trainer.Model, 784, batch);
            var dl = new float[batch * 10];
            var lossFn = new CrossEntropyLoss();
            Console.WriteLine($"   forward {Time(() => engine.Forward(x, batch), 0) * 1e6:F1} us");
            Console.WriteLine($"   loss {Time(() => lossFn.ForwardBackward(engine.Forward(x, batch), y, dl, batch, 10), 0) * 1e6:F1} us (incl. forward)");
            Console.WriteLine($"   backward {Time(() => engine.Backward(dl), 0) * 1e6:F1} us");
            Console.WriteLine($"   zero_grad {Time(() => trainer.Optimizer.ZeroGrad(), 0) * 1e6:F1} us");
            Console.WriteLine($"   optimizer {Time(() => trainer.Optimizer.Step(), 0) * 1e6:F1} us");
        }
    }

    /// <summary>
    /// `gemm`: median GFLOP/s of a layer's forward <c>x·Wᵀ</c> — x (m, k), W (n, k) — at the three recorded
    /// m×k×n shapes, as one JSON line (for compare.py, which times numpy's <c>x @ w.T</c> the same way).
    /// </summary>
    public static void GemmJson(int threads)
    {
        var pool = new WorkerPool(threads);
        var parts = new List<string>();
        foreach (var (m, k, n) in new[] { (1024, 1024, 1024), (256, 784, 1024), (32, 784, 32) })
        {
            var rng = new Rng(1);
            var x = Enumerable.Range(0, m * k).Select(_ => rng.NextSingle()).ToArray();
            var w = Enumerable.Range(0, n * k).Select(_ => rng.NextSingle()).ToArray();
            var c = new float[m * n];
            var times = new List<double>();
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 300) Gemm.Run(false, true, m, n, k, 1f, x, k, w, k, 0f, c, n, pool);
            for (int r = 0; r < 21; r++)
            {
                int reps = Math.Max(1, (int)(2e8 / (2.0 * m * n * k)));
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < reps; i++) Gemm.Run(false, true, m, n, k, 1f, x, k, w, k, 0f, c, n, pool);
                times.Add(sw.Elapsed.TotalSeconds / reps);
            }
            times.Sort();
            parts.Add($"\"{m}x{k}x{n}\": {2.0 * m * n * k / times[times.Count / 2] / 1e9:F1}");
        }
        Console.WriteLine("{" + string.Join(", ", parts) + "}");
    }

    /// <summary>
    /// `quick-epoch`: real Fashion-MNIST epochs of the textbook model, split into loader and step time, with the first
    /// epoch's first steps one by one (the first pays for compiling the training path).
    /// </summary>
    public static void Epoch(int threads)
    {
        using var context = ComputeContext.Begin(new ComputeSettings { Threads = threads });
        var (train, _) = DatasetLocator.Load(FashionMnist.Spec, new DatasetLocator().Locate(FashionMnist.Spec));
        var model = Mlp.Create(784, [32], ActivationKind.Sigmoid, 10, new Rng(1));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), new SgdOptions(1e-3f)), 784, 32);
        var loader = DataLoader.Shuffled(train, 32, new Rng(2));
        var firsts = new List<long>();
        int seen = 0;
        for (int e = 0; e < 4; e++)
        {
            long load = 0, step = 0, t0 = Stopwatch.GetTimestamp();
            var en = loader.GetEnumerator();
            while (true)
            {
                long a = Stopwatch.GetTimestamp();
                if (!en.MoveNext()) break;
                long b = Stopwatch.GetTimestamp();
                trainer.Step(en.Current.Features, en.Current.Labels, en.Current.Size);
                long c = Stopwatch.GetTimestamp();
                load += b - a; step += c - b;
                if (e == 0 && firsts.Count < 40) firsts.Add(c - a);
                else if (e == 0 && firsts.Count < 60 && (++seen % 100) == 0) firsts.Add(c - a);
            }
            double f = 1e3 / Stopwatch.Frequency;
            if (e == 0) Console.WriteLine("first steps (us): " + string.Join(" ", firsts.Select(t => (t * f * 1000).ToString("F0"))));
            Console.WriteLine($"epoch {e}: total {(Stopwatch.GetTimestamp() - t0) * f:F1} ms, loader {load * f:F1} ms, steps {step * f:F1} ms ({step * f * 1000 / loader.BatchCount:F1} us/step)");
        }
    }

    /// <summary>
    /// `quick-gather`: batch gathers over Fashion-MNIST's training images — without and with the loader's prefetch of
    /// the next batch, with a step-sized gap and another core reading the batch in it (as the worker does), with
    /// other prefetch hints and distances — against images already in cache. Issue 12's study of the loader's time.
    /// </summary>
    public static void Gather()
    {
        var (train, _) = DatasetLocator.Load(FashionMnist.Spec, new DatasetLocator().Locate(FashionMnist.Spec));
        var images = (ImageDataset)train;
        var order = Enumerable.Range(0, images.Count).ToArray();
        new Random(3).Shuffle(order);
        var x = new float[32 * 784];
        var y = new int[32];
        var z = new float[32 * 784];
        for (int round = 0; round < 3; round++)
        {
            foreach (bool prefetch in new[] { false, true })
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int b = 0; b + 64 <= order.Length; b += 32)
                {
                    images.Gather(order.AsSpan(b, 32), x, y);
                    if (prefetch) images.Prefetch(order.AsSpan(b + 32, 32));
                    for (int w = 0; w < 3; w++) x.AsSpan().CopyTo(z); // some work between batches, as a step would do
                }
                double us = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / (order.Length / 32);
                long t1 = Stopwatch.GetTimestamp();
                for (int b = 0; b + 64 <= order.Length; b += 32) for (int w = 0; w < 3; w++) x.AsSpan().CopyTo(z);
                double filler = Stopwatch.GetElapsedTime(t1).TotalMicroseconds / (order.Length / 32);
                Console.WriteLine($"prefetch {prefetch}: {us - filler:F2} us per batch gather (filler {filler:F2})");
            }
        }
        // A step-sized gap (~25 us) between batches; then the same with another core reading the batch in the gap, as
        // the worker does in the GEMMs.
        var pool = new WorkerPool(2);
        var reader = new ReadBody(x);
        foreach (bool remote in new[] { false, true, false, true })
        {
            long t0 = Stopwatch.GetTimestamp();
            long gather = 0;
            for (int b = 0; b + 64 <= order.Length; b += 32)
            {
                long g0 = Stopwatch.GetTimestamp();
                images.Gather(order.AsSpan(b, 32), x, y);
                images.Prefetch(order.AsSpan(b + 32, 32));
                gather += Stopwatch.GetTimestamp() - g0;
                if (remote) pool.For(2, reader); else { reader.Run(0); reader.Run(1); }
                for (int w = 0; w < 20; w++) z.AsSpan(0, 4096).CopyTo(z.AsSpan(8192));
            }
            Console.WriteLine($"gap, remote reader {remote}: {gather * 1e6 / Stopwatch.Frequency / (order.Length / 32):F2} us per batch gather");
        }
        unsafe
        {
            fixed (byte* px = images.Pixels)
            {
                foreach (var (name, kind, ahead) in new[] { ("t1 next", 1, 1), ("t0 next", 0, 1), ("t2 next", 2, 1), ("t1 every other line", 5, 1), ("t1 first line", 4, 1), ("t1 next", 1, 1) })
                {
                    long gather = 0, pf = 0;
                    for (int b = 0; b + 96 <= order.Length; b += 32)
                    {
                        long g0 = Stopwatch.GetTimestamp();
                        images.Gather(order.AsSpan(b, 32), x, y);
                        gather += Stopwatch.GetTimestamp() - g0;
                        long p0 = Stopwatch.GetTimestamp();
                        foreach (int i in order.AsSpan(b + 32 * ahead, 32))
                        {
                            byte* img = px + (long)i * 784;
                            for (int off = 0; off < 784; off += 64)
                            {
                                switch (kind)
                                {
                                    case 0: System.Runtime.Intrinsics.X86.Sse.Prefetch0(img + off); break;
                                    case 1: System.Runtime.Intrinsics.X86.Sse.Prefetch1(img + off); break;
                                    case 2: System.Runtime.Intrinsics.X86.Sse.Prefetch2(img + off); break;
                                    case 3: System.Runtime.Intrinsics.X86.Sse.PrefetchNonTemporal(img + off); break;
                                    case 5: if (off % 128 == 0) System.Runtime.Intrinsics.X86.Sse.Prefetch1(img + off); break;
                                    default: if (off == 0) System.Runtime.Intrinsics.X86.Sse.Prefetch1(img); break;
                                }
                            }
                        }
                        pf += Stopwatch.GetTimestamp() - p0;
                        reader.Run(0);
                        for (int w = 0; w < 20; w++) z.AsSpan(0, 4096).CopyTo(z.AsSpan(8192));
                    }
                    Console.WriteLine($"{name}: {gather * 1e6 / Stopwatch.Frequency / (order.Length / 32):F2} us per batch gather, prefetch {pf * 1e6 / Stopwatch.Frequency / (order.Length / 32):F2} us");
                }
            }
        }
        var hot = order.AsSpan(0, 32).ToArray();
        long t2 = Stopwatch.GetTimestamp();
        for (int r = 0; r < 10000; r++) images.Gather(hot, x, y);
        Console.WriteLine($"cached images: {Stopwatch.GetElapsedTime(t2).TotalMicroseconds / 10000:F2} us per batch");
    }

    /// <summary>
    /// `quick-long`: the textbook Adam step over 160,000 steps, µs per step per 20,000, on one batch repeated (it gets
    /// memorized) or, with CYCLE=1, cycling through 512 random batches. Run it with tiered compilation on (a library
    /// user's default) as well as off: it is how the tier-1 inlining problem of <c>Optimizer.Run</c> showed (130 µs).
    /// </summary>
    public static void Long()
    {
        using var context = ComputeContext.Begin(new ComputeSettings { Threads = 2 });
        var (trainer, x, y) = Step([32], ActivationKind.Sigmoid, 32, OptimizerKind.Adam);
        var rng = new Rng(3);
        var xs = Enumerable.Range(0, 512).Select(_ => Enumerable.Range(0, 32 * 784).Select(_ => rng.NextSingle()).ToArray()).ToArray();
        var ys = Enumerable.Range(0, 512).Select(_ => Enumerable.Range(0, 32).Select(_ => rng.NextInt(10)).ToArray()).ToArray();
        bool cycle = Environment.GetEnvironmentVariable("CYCLE") == "1";
        for (int round = 0; round < 8; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 20000; i++) { if (cycle) trainer.Step(xs[i & 511], ys[i & 511], 32); else trainer.Step(x, y, 32); }
            int denormal = trainer.Model.Parameters().Sum(p => p.ToArray().Count(v => v != 0 && float.IsSubnormal(v)));
            var adam = (Adam)trainer.Optimizer;
            int stateDenormal = adam.State().Sum(s => s.Buffers.Data.ToArray().Count(v => v != 0 && float.IsSubnormal(v)));
            Console.WriteLine($"round {round}: {sw.Elapsed.TotalMicroseconds / 20000:F1} us/step, loss {trainer.LastLoss:G3}, subnormal params {denormal}, state {stateDenormal}");
        }
    }

    /// <summary>`quick-loss`: the fused loss and the accuracy count on a 32×10 batch, alone and between GEMMs.</summary>
    public static void Loss()
    {
        var logits = new float[320];
        var rng = new Rng(5);
        for (int i = 0; i < logits.Length; i++) logits[i] = rng.NextSingle() * 4 - 2;
        var labels = Enumerable.Range(0, 32).Select(i => i % 10).ToArray();
        var d = new float[320];
        var a = new float[32 * 784]; var w = new float[32 * 784]; var c = new float[32 * 32];
        Console.WriteLine($"loss alone: {Time(() => CrossEntropy.ForwardBackward(logits, labels, d, 32, 10), 0) * 1e6:F2} us");
        Console.WriteLine($"argmax alone: {Time(() => { for (int r = 0; r < 32; r++) Reductions.ArgMax(logits.AsSpan(r * 10, 10)); }, 0) * 1e6:F2} us");
        Console.WriteLine($"exp 320 alone: {Time(() => TensorPrimitives.Exp(logits, d), 0) * 1e6:F2} us");
        Console.WriteLine($"sum 10 x32 alone: {Time(() => { for (int r = 0; r < 32; r++) TensorPrimitives.Sum(logits.AsSpan(r * 10, 10)); }, 0) * 1e6:F2} us");
        double g = Time(() => Gemm.Run(false, true, 32, 32, 784, 1f, a, 784, w, 784, 0f, c, 32, null), 0);
        double gl = Time(() => { Gemm.Run(false, true, 32, 32, 784, 1f, a, 784, w, 784, 0f, c, 32, null); CrossEntropy.ForwardBackward(logits, labels, d, 32, 10); }, 0);
        Console.WriteLine($"loss between GEMMs: {(gl - g) * 1e6:F2} us");
    }

    private sealed class ReadBody(float[] x) : IParallelBody
    {
        public float Sink;

        public void Run(int index)
        {
            // Both halves are read by each part, as both threads read all of x in the weight-gradient GEMM.
            float s = 0;
            for (int r = 0; r < 3; r++) s += TensorPrimitives.Sum(x);
            Sink = s;
        }
    }

    private sealed class EmptyBody : IParallelBody
    {
        public void Run(int index) { }
    }

    internal static (Trainer, float[], int[]) Step(int[] hidden, ActivationKind act, int batch, OptimizerKind opt)
    {
        var model = Mlp.Create(784, hidden, act, 10, new Rng(1));
        var trainer = new Trainer(model, new CrossEntropyLoss(), OptimizerFactory.Create(opt, model.Parameters()), 784, batch);
        var x = new float[batch * 784];
        var y = new int[batch];
        var rng = new Rng(2);
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextSingle();
        for (int i = 0; i < batch; i++) y[i] = rng.NextInt(10);
        return (trainer, x, y);
    }

    /// <summary>
    /// `quick-shards`: one thread, the wide model's layer GEMMs (784-1024-1024) at the row counts data-parallel
    /// training computes: a layer's forward with the kernel chosen as for 64-row micro-shards or by its own rows, and
    /// the weight gradient over 64-row micro-shards against one GEMM over all rows.
    /// </summary>
    public static void Shards(int threads)
    {
        using var context = ComputeContext.Begin(new ComputeSettings { Threads = threads });
        foreach (var (i, o) in new[] { (784, 1024), (1024, 1024) })
            foreach (int m in new[] { 16, 32, 48, 64, 128, 256 })
            {
                var x = new float[m * i]; var w = new float[o * i]; var y = new float[m * o];
                for (int t = 0; t < x.Length; t++) x[t] = (t % 17) * 0.01f;
                for (int t = 0; t < w.Length; t++) w[t] = (t % 13) * 0.01f;
                double like64 = Time(() => Gemm.RunObserved(false, true, m, o, i, 1f, x, i, w, i, 0f, y, o, null, null, rowsLike: 64), 0);
                double own = Time(() => Gemm.Run(false, true, m, o, i, 1f, x, i, w, i, 0f, y, o), 0);
                double packed = Time(() => Gemm.RunObserved(false, true, m, o, i, 1f, x, i, w, i, 0f, y, o, null, null, rowsLike: 1000), 0);
                double dot = Time(() => Gemm.RunObserved(false, true, m, o, i, 1f, x, i, w, i, 0f, y, o, null, null, rowsLike: 1), 0);
                Console.WriteLine($"{i}->{o} rows {m}: forward packed {packed * 1e3:F2} ms, dot {dot * 1e3:F2} ms");
                var dW = new float[o * i];
                double whole = Time(() => Gemm.Run(true, false, o, i, m, 1f, y, o, x, i, 0f, dW, i), 0);
                double leaves = m < 64 ? 0 : Time(() => { for (int r = 0; r < m; r += 64) Gemm.Run(true, false, o, i, 64, 1f, y.AsSpan(r * o), o, x.AsSpan(r * i), i, r == 0 ? 0f : 1f, dW, i); }, 0);
                double dx = Time(() => Gemm.Run(false, false, m, i, o, 1f, y, o, w, i, 0f, x, i), 0);
                Console.WriteLine($"{i}->{o} rows {m}: forward as 64-row shards {like64 * 1e3:F2} ms, by own rows {own * 1e3:F2} ms; dW one GEMM {whole * 1e3:F2} ms, per 64 rows {leaves * 1e3:F2} ms; dx {dx * 1e3:F2} ms");
            }
    }

    private static double Time(Action f, double flopsHint)
    {
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 300) f(); // past tiered compilation
        int reps = 1;
        var sw = Stopwatch.StartNew();
        f();
        double once = sw.Elapsed.TotalSeconds;
        reps = (int)Math.Clamp(0.05 / Math.Max(once, 1e-7), 1, 100000);
        double best = double.MaxValue;
        for (int round = 0; round < 7; round++)
        {
            sw.Restart();
            for (int i = 0; i < reps; i++) f();
            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }
        return best;
    }
}
