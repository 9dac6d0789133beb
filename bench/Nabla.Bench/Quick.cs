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
/// BenchmarkDotNet figures. Prints GEMM GFLOP/s at the recorded shapes and µs per training step.
/// </summary>
public static class Quick
{
    public static void Run(int threads)
    {
        var pool = new WorkerPool(threads);
        WorkerPool.Default = pool;
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

    /// <summary>`quick-epoch`: one real Fashion-MNIST epoch of the textbook model, split into loader and step time.</summary>
    public static void Epoch(int threads)
    {
        WorkerPool.Default = new WorkerPool(threads);
        var (train, _) = DatasetLocator.Load(FashionMnist.Spec, new DatasetLocator().Locate(FashionMnist.Spec));
        var model = Mlp.Create(784, [32], ActivationKind.Sigmoid, 10, new Rng(1));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), new SgdOptions(1e-3f)), 784, 32);
        var loader = DataLoader.Shuffled(train, 32, new Rng(2));
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
            }
            double f = 1e3 / Stopwatch.Frequency;
            Console.WriteLine($"epoch {e}: total {(Stopwatch.GetTimestamp() - t0) * f:F1} ms, loader {load * f:F1} ms, steps {step * f:F1} ms ({step * f * 1000 / loader.BatchCount:F1} us/step)");
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
