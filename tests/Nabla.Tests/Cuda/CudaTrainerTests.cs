using Nabla.Autograd;
using ILGPU.Runtime;
using Nabla.Cuda.Training;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Tests.Cuda;

/// <summary>
/// The CUDA trainer's fused step (on ILGPU's CPU accelerator) against the CPU trainer on the same model, data,
/// shuffle and optimizer: parameters, optimizer state, losses and accuracies agree to 1e-5 relative. Sizes are
/// small because the CPU accelerator takes milliseconds per launch.
/// </summary>
[Collection("Cuda")]
public sealed class CudaTrainerTests(SimulatorFixture sim)
{
    private static TensorDataset Blobs(int count, int features, int classes, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[count * features];
        var y = new int[count];
        for (int i = 0; i < count; i++)
        {
            y[i] = i % classes;
            for (int f = 0; f < features; f++) x[i * features + f] = (f % classes == y[i] ? 0.8f : 0f) + 0.5f * (float)rng.NextGaussian();
        }
        return new TensorDataset(x, y, features, [.. Enumerable.Range(0, classes).Select(c => $"c{c}")]);
    }

    private static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, float rel = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= rel * Math.Max(1f, Math.Abs(expected[i])),
                $"{what}[{i}]: cpu {expected[i]}, cuda {actual[i]}");
    }

    private sealed record Run(Sequential Model, Optimizer Optimizer, List<EpochMetrics> Epochs, EvalResult Test);

    /// <summary>Trains the same run on the CPU trainer and on the CUDA trainer.</summary>
    private (Run Cpu, Run Cuda) Both(MlpArchitecture arch, Func<IReadOnlyList<Tensor>, Optimizer> optimizer, int epochs,
        int batch = 16, float maxGradNorm = 0, Func<Sequential>? build = null, bool fuse = true)
    {
        var data = Blobs(48, arch.Inputs, arch.Classes, 7);
        Run Train(bool cuda)
        {
            var model = build?.Invoke() ?? arch.Create(new Rng(3));
            var opt = optimizer(model.Parameters());
            var loader = DataLoader.Shuffled(data, batch, new Rng(11));
            var history = new List<EpochMetrics>();
            if (!cuda)
            {
                var t = new Trainer(model, new CrossEntropyLoss(), opt, arch.Inputs, batch) { MaxGradNorm = maxGradNorm };
                for (int e = 0; e < epochs; e++) history.Add(t.TrainEpoch(loader));
                return new Run(model, opt, history, t.Test(new DataLoader(data, batch)));
            }
            var (g, device) = OnDevice(sim.Backend, model, opt, arch.Inputs, batch, fuse);
            using var _ = device;
            g.MaxGradNorm = maxGradNorm;
            for (int e = 0; e < epochs; e++) history.Add(g.TrainEpoch(loader));
            return new Run(model, opt, history, g.Test(new DataLoader(data, batch)));
        }
        return (Train(false), Train(true));
    }

    [Fact]
    public void Regression_IsRefused_NotTrainedWithTheWrongLoss()
    {
        var model = new MlpArchitecture(3, [4], ActivationKind.Sigmoid, 1).Create(new Rng(1));
        var opt = new Adam(model.Parameters(), lr: 0.01f);
        var (t, device) = OnDevice(sim.Backend, model, opt, 3, 4);
        using var _ = device;
        var data = new RegressionDataset(new float[24], new float[8], 3, ["y"]);
        var e = Assert.Throws<NotSupportedException>(() => t.TrainEpoch(new DataLoader(data, 4)));
        Assert.Contains("classification", e.Message);
    }

    /// <summary>A trainer whose loops run on the device (the way --device cuda trains).</summary>
    internal static (Trainer Trainer, CudaAccelerator Device) OnDevice(Nabla.Cuda.CudaBackend gpu, Sequential model, Optimizer opt,
        int features, int batch, bool fuse = true)
    {
        var device = new CudaAccelerator(gpu, model, opt, features, batch);
        device.Engine.FuseStep = fuse;
        return (new Trainer(model, new CrossEntropyLoss(), opt, features, batch) { Accelerator = device }, device);
    }

    private static void Same(Run cpu, Run cuda, float rel = 1e-5f)
    {
        var pc = cpu.Model.Parameters();
        var pg = cuda.Model.Parameters();
        for (int i = 0; i < pc.Count(); i++) Close(pc[i].Data, pg[i].Data, $"parameter {i}", rel);
        for (int e = 0; e < cpu.Epochs.Count; e++)
        {
            Assert.Equal(cpu.Epochs[e].TrainAccuracy, cuda.Epochs[e].TrainAccuracy);
            Assert.Equal(cpu.Epochs[e].TrainLoss, cuda.Epochs[e].TrainLoss, 1e-5);
        }
        Assert.Equal(cpu.Test.Correct, cuda.Test.Correct);
        Assert.Equal(cpu.Test.Loss, cuda.Test.Loss, 1e-5);
        Assert.Equal(cpu.Optimizer.Steps, cuda.Optimizer.Steps);
        var sc = cpu.Optimizer.State().ToList();
        var sg = cuda.Optimizer.State().ToList();
        Assert.Equal(sc.Select(s => s.Name), sg.Select(s => s.Name));
        for (int s = 0; s < sc.Count; s++)
            for (int i = 0; i < sc[s].Buffers.Count; i++) Close(sc[s].Buffers[i].Data, sg[s].Buffers[i].Data, sc[s].Name, rel);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Textbook_shaped_sigmoid_mlp_with_sgd_matches_the_cpu_trainer(bool fuse)
    {
        var (cpu, cuda) = Both(new MlpArchitecture(20, [8], ActivationKind.Sigmoid, 4), p => new Sgd(p, new SgdOptions(0.5f)), epochs: 2, fuse: fuse);
        Same(cpu, cuda);
        Assert.NotEqual(cpu.Epochs[0].TrainLoss, cpu.Epochs[1].TrainLoss); // it trained
    }

    [Fact]
    public void Wide_layers_take_the_gemm_path_and_match_the_cpu_trainer()
    {
        var arch = new MlpArchitecture(70, [80, 66], ActivationKind.Relu, 5);
        var m = arch.Create(new Rng(1));
        using (var probe = new CudaTrainer(sim.Backend, m, new Sgd(m.Parameters()), 70, 4))
            Assert.Equal([false, false, true], probe.FusedLayers);
        // The tiled GEMM sums in another order than the managed one; Adam divides by √v, so a weight whose gradient
        // is near zero moves by up to lr either way: 1e-4 here, where the narrow (same-order) layers hold 1e-5.
        var (cpu, cuda) = Both(arch, p => new Adam(p, new AdamOptions(1e-2f)), epochs: 1);
        Same(cpu, cuda, 1e-4f);
        var (_, unfused) = Both(arch, p => new Adam(p, new AdamOptions(1e-2f)), epochs: 1, fuse: false);
        Same(cpu, unfused, 1e-4f);
    }

    [Theory]
    [InlineData("sgd-momentum", true)]
    [InlineData("adam-amsgrad", true)]
    [InlineData("adamw", true)]
    [InlineData("rmsprop-centered", true)]
    [InlineData("adagrad", true)]
    [InlineData("sgd-l1", true)]
    [InlineData("adam-amsgrad", false)]
    [InlineData("rmsprop-centered", false)]
    public void Every_optimizer_kernel_matches_its_host_optimizer(string which, bool fuse)
    {
        Func<IReadOnlyList<Tensor>, Optimizer> make = which switch
        {
            "sgd-momentum" => p => new Sgd(p, new SgdOptions(0.1f, Momentum: 0.9f, WeightDecay: 1e-3f, Nesterov: true)),
            "adam-amsgrad" => p => new Adam(p, new AdamOptions(1e-2f, WeightDecay: 1e-3f, Amsgrad: true)),
            "adamw" => p => new AdamW(p),
            "rmsprop-centered" => p => new RmsProp(p, new RmsPropOptions(1e-2f, Momentum: 0.5f, Centered: true, WeightDecay: 1e-3f)),
            "adagrad" => p => new Adagrad(p, new AdagradOptions(1e-1f, LrDecay: 0.01f, InitialAccumulatorValue: 0.1f)),
            _ => p => new Sgd(p, new SgdOptions(0.1f)) { L1Penalty = 1e-3f },
        };
        var (cpu, cuda) = Both(new MlpArchitecture(12, [6], ActivationKind.Tanh, 3), make, epochs: 1, fuse: fuse);
        Same(cpu, cuda);
    }

    [Fact]
    public void Gradient_clipping_on_the_device_matches_the_host()
    {
        var (cpu, cuda) = Both(new MlpArchitecture(12, [6], ActivationKind.Sigmoid, 3), p => new Sgd(p, new SgdOptions(1f)), epochs: 1, maxGradNorm: 0.05f);
        Same(cpu, cuda);
    }

    [Fact]
    public void A_linear_without_bias_trains_the_same()
    {
        Sequential Build() { var r = new Rng(3); return new Sequential(new Linear(12, 6, r, bias: false), new Relu(), new Linear(6, 3, r)); }
        var (cpu, cuda) = Both(new MlpArchitecture(12, [6], ActivationKind.Relu, 3), p => new Sgd(p, new SgdOptions(0.3f)), epochs: 1, build: Build);
        Same(cpu, cuda);
    }

    [Fact]
    public void Switching_from_sgd_to_adam_as_the_textbook_does_matches_the_cpu()
    {
        var arch = new MlpArchitecture(20, [8], ActivationKind.Sigmoid, 4);
        var data = Blobs(32, 20, 4, 5);
        var a = arch.Create(new Rng(9));
        var b = arch.Create(new Rng(9));
        var ta = new Trainer(a, new CrossEntropyLoss(), new Sgd(a.Parameters(), new SgdOptions(0.1f)), 20, 16);
        ta.TrainEpoch(DataLoader.Shuffled(data, 16, new Rng(1)));
        ta.Optimizer = new Adam(a.Parameters());
        ta.TrainEpoch(DataLoader.Shuffled(data, 16, new Rng(2)));
        var (tb, device) = OnDevice(sim.Backend, b, new Sgd(b.Parameters(), new SgdOptions(0.1f)), 20, 16);
        using var _ = device;
        tb.TrainEpoch(DataLoader.Shuffled(data, 16, new Rng(1)));
        tb.Optimizer = new Adam(b.Parameters());
        tb.TrainEpoch(DataLoader.Shuffled(data, 16, new Rng(2)));
        for (int i = 0; i < a.Parameters().Count(); i++) Close(a.Parameters()[i].Data, b.Parameters()[i].Data, "parameter");
    }

    [Fact]
    public void Layers_without_a_kernel_are_refused_by_name()
    {
        var r = new Rng(1);
        var inputDropout = new Sequential(new Dropout(0.5f, r), new Linear(4, 4, r), new Relu(), new Linear(4, 2, r));
        var e = Assert.Throws<NotSupportedException>(() => new CudaTrainer(sim.Backend, inputDropout, new Sgd(inputDropout.Parameters()), 4, 2));
        Assert.Contains("Dropout", e.Message);
        var softmax = new Sequential(new Linear(4, 2, r), new Softmax());
        Assert.Throws<NotSupportedException>(() => new CudaTrainer(sim.Backend, softmax, new Sgd(softmax.Parameters()), 4, 2));
    }

    [Theory]
    [InlineData(6, 5, true)]    // narrow: the mask inside the fused layer kernels
    [InlineData(6, 5, false)]
    [InlineData(70, 80, true)]  // wide: the masks inside the GEMM epilogues and the activation backward
    public void Dropout_step_equals_autograd_through_the_same_mask(int inputs, int hidden, bool fuse)
    {
        const float p = 0.4f;
        int batch = 16;
        var data = Blobs(batch, inputs, 3, 2);
        var r = new Rng(5);
        var model = new Sequential(new Linear(inputs, hidden, r), new Sigmoid(), new Dropout(p, new Rng(6)),
            new Linear(hidden, hidden, r), new Tanh(), new Dropout(p, new Rng(6)), new Linear(hidden, 3, r));
        var start = model.Parameters().Select(t => t.Clone()).ToArray();
        var (trainer, device) = OnDevice(sim.Backend, model, new Sgd(model.Parameters(), new SgdOptions(1f)), inputs, batch, fuse);
        using var _ = device;
        trainer.TrainEpoch(new DataLoader(data, batch)); // one step, samples in order
        var gpu = device.Engine;

        // The same step by autograd, with the mask the device used rebuilt on the host.
        var x = new float[batch * inputs];
        var y = new int[batch];
        data.Gather(Enumerable.Range(0, batch).ToArray(), x, y);
        var w = start.Select(t => t.Clone().RequireGrad()).ToArray();
        Tensor Mask(int layer)
        {
            uint seed = gpu.MaskSeedFor(0, 0, layer);
            return Tensor.FromArray([.. Enumerable.Range(0, batch * hidden).Select(i => Nabla.Tensors.Kernels.DropoutMask.Factor(seed, i, p))], batch, hidden);
        }
        var mask = Mask(0);
        var h1 = Ops.Linear(Tensor.FromArray(x, batch, inputs), w[0], w[1]).Sigmoid().Mul(mask);
        var h2 = Ops.Linear(h1, w[2], w[3]).Tanh().Mul(Mask(1));
        Ops.CrossEntropy(Ops.Linear(h2, w[4], w[5]), y).Backward();
        var trained = model.Parameters();
        for (int i = 0; i < w.Length; i++)
        {
            var expected = w[i].ToArray().Zip(w[i].Grad!.ToArray(), (v, g) => v - g).ToArray(); // SGD, lr 1
            Close(expected, trained[i].Data, $"parameter {i}");
        }
        Assert.Contains(0f, mask.ToArray()); // the mask did drop something
    }

    [Fact]
    public void An_interrupted_epoch_resumed_in_a_new_trainer_ends_as_the_uninterrupted_one_dropout_included()
    {
        var data = Blobs(96, 10, 3, 9);
        var arch = new MlpArchitecture(10, [12], ActivationKind.Relu, 3, Dropout: 0.3f);
        Sequential Fresh() => arch.Create(new Rng(4), new Rng(5));

        var whole = Fresh();
        var (t, d1) = OnDevice(sim.Backend, whole, new Adam(whole.Parameters()), 10, 16);
        using (d1) t.TrainEpoch(DataLoader.Shuffled(data, 16, new Rng(8)));

        var parts = Fresh();
        var adam = new Adam(parts.Parameters());
        var (first, d2) = OnDevice(sim.Backend, parts, adam, 10, 16);
        using (d2)
        {
            Assert.Throws<OperationCanceledException>(() => first.TrainEpoch(DataLoader.Shuffled(data, 16, new Rng(8)),
                callbacks: [Callback.OnStepEnd((_, b) => { if (b == 2) throw new OperationCanceledException(); })]));
            d2.Engine.SyncToHost(); // what a checkpoint would hold: 2 steps done
        }
        Assert.All(adam.Steps, s => Assert.Equal(2, s));
        var (second, d3) = OnDevice(sim.Backend, parts, adam, 10, 16);
        using (d3) second.TrainEpoch(DataLoader.Shuffled(data, 16, new Rng(8)), skipBatches: 2);
        for (int i = 0; i < whole.Parameters().Length; i++)
            Assert.Equal(whole.Parameters()[i].ToArray(), parts.Parameters()[i].ToArray()); // bitwise: same kernels, same order
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Dropout_draws_the_same_masks_on_the_cpu_and_the_device(bool fuse)
    {
        // One counter-based scheme (DropoutMask) on every device: runs with dropout agree as runs without it do.
        var (cpu, cuda) = Both(new MlpArchitecture(12, [9, 70], ActivationKind.Relu, 3, Dropout: 0.3f),
            p => new Sgd(p, new SgdOptions(0.2f, Momentum: 0.9f)), epochs: 2, fuse: fuse);
        Same(cpu, cuda);
    }

    [Fact]
    public void Dropout_masks_drop_p_of_the_elements_and_scale_the_rest()
    {
        int dropped = 0, n = 200_000;
        for (int i = 0; i < n; i++)
        {
            float m = Nabla.Tensors.Kernels.DropoutMask.Factor(12345u, i, 0.3f);
            if (m == 0) dropped++;
            else Assert.Equal(1f / 0.7f, m);
        }
        Assert.InRange(dropped / (double)n, 0.295, 0.305);
        Assert.Equal(1f, Nabla.Tensors.Kernels.DropoutMask.Factor(1u, 7, 0f));
    }
}

/// <summary>Images uploaded as bytes and converted on the device hold the very floats the host would gather.</summary>
[Collection("Cuda")]
public sealed class DeviceDatasetTests(SimulatorFixture sim)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bytes_converted_on_the_device_equal_the_host_gather_bitwise(bool normalize)
    {
        var rng = new Rng(4);
        var pixels = new byte[37 * 6 * 5];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)rng.NextInt(256);
        var labels = Enumerable.Range(0, 37).Select(i => (byte)(i % 3)).ToArray();
        var images = new ImageDataset(pixels, labels, 6, 5, ["a", "b", "c"]);
        if (normalize) images.Normalize(0.2860f, 0.3530f);
        var all = Enumerable.Range(0, 37).ToArray();
        var expected = new float[37 * 30];
        var expectedLabels = new int[37];
        images.Gather(all, expected, expectedLabels);
        using var device = new DeviceDataset(sim.Backend, images);
        var actual = new float[expected.Length];
        var actualLabels = new int[37];
        device.FeatureView.CopyToCPU(actual);
        device.LabelView.CopyToCPU(actualLabels);
        Assert.Equal(expected, actual);
        Assert.Equal(expectedLabels, actualLabels);
    }
}
