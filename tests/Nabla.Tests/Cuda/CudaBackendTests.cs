using Nabla.Autograd;
using Nabla.Devices;
using Nabla.Tensors;

namespace Nabla.Tests.Cuda;

/// <summary>
/// Tensor operations dispatched to the CUDA backend's kernels (on ILGPU's CPU accelerator) equal the CPU
/// backend's results, and devices never mix implicitly.
/// </summary>
[Collection("Cuda")]
public sealed class CudaBackendTests(SimulatorFixture sim)
{
    private static readonly Device Gpu = Device.Cuda();

    private static Tensor Random(Rng rng, params int[] shape) => Tensor.Uniform(new Shape(shape), -1f, 1f, rng);

    private static void Close(Tensor expected, Tensor actual, float rel = 1e-5f)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToArray();
        var a = actual.ToArray();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= rel * Math.Max(1f, Math.Abs(e[i])), $"element {i}: cpu {e[i]}, cuda {a[i]}");
    }

    [Fact]
    public void To_and_back_round_trips_bitwise_and_reports_the_device()
    {
        var x = Random(new Rng(1), 3, 5);
        var d = x.To(Gpu);
        Assert.Equal(Gpu, d.Device);
        Assert.Equal("cuda:0", d.Device.ToString());
        Assert.Same(d, d.To(Gpu));
        Assert.Equal(x.ToArray(), d.Cpu().ToArray());
        Assert.Equal(x.Rows(1, 2).ToArray(), d.Rows(1, 2).Cpu().ToArray()); // views keep their offset on the device
        Assert.Contains("device='cuda:0'", d.ToString());
    }

    [Fact]
    public void Reading_a_device_tensor_on_the_host_says_how_to_fix_it()
    {
        var d = Tensor.Ones(2, 2).To(Gpu);
        var e = Assert.Throws<InvalidOperationException>(() => d.Data[0]);
        Assert.Contains(".Cpu()", e.Message);
    }

    [Theory]
    [InlineData(false, false, 7, 9, 13)]
    [InlineData(false, true, 32, 10, 33)]
    [InlineData(true, false, 17, 5, 31)]
    [InlineData(true, true, 4, 19, 16)]
    public void MatMul_matches_the_cpu(bool ta, bool tb, int m, int n, int k)
    {
        var rng = new Rng(2);
        var a = ta ? Random(rng, k, m) : Random(rng, m, k);
        var b = tb ? Random(rng, n, k) : Random(rng, k, n);
        Close(a.MatMul(b, ta, tb), a.To(Gpu).MatMul(b.To(Gpu), ta, tb).Cpu());
    }

    [Fact]
    public void Elementwise_activations_and_softmax_match_the_cpu()
    {
        var x = Random(new Rng(3), 6, 11);
        var d = x.To(Gpu);
        Close(x.Sigmoid(), d.Sigmoid().Cpu());
        Close(x.Tanh(), d.Tanh().Cpu());
        Assert.Equal(x.Relu().ToArray(), d.Relu().Cpu().ToArray()); // exact operations are bitwise equal
        Close(x.Exp(), d.Exp().Cpu());
        Close(x.Exp().Log(), d.Exp().Log().Cpu());
        Close(x.Softmax(), d.Softmax().Cpu());
        Close(x.LogSoftmax(), d.LogSoftmax().Cpu());
    }

    [Fact]
    public void Binary_ops_with_bias_and_scalar_broadcasts_match_the_cpu()
    {
        var rng = new Rng(4);
        var a = Random(rng, 5, 8);
        var b = Random(rng, 5, 8);
        var bias = Random(rng, 8);
        var s = Tensor.Scalar(0.5f);
        var (da, db, dbias, ds) = (a.To(Gpu), b.To(Gpu), bias.To(Gpu), s.To(Gpu));
        Assert.Equal(a.Add(b).ToArray(), da.Add(db).Cpu().ToArray());
        Close(a.Sub(bias), da.Sub(dbias).Cpu());
        Close(bias.Mul(a), dbias.Mul(da).Cpu());
        Close(a.Div(s), da.Div(ds).Cpu());
        Close(Ops.Linear(a, b.Rows(0, 3), bias.Rows(0, 3)), Ops.Linear(da, db.Rows(0, 3), dbias.Rows(0, 3)).Cpu());
    }

    [Fact]
    public void Sum_matches_the_cpu_over_many_elements()
    {
        var x = Random(new Rng(5), 1000, 3);
        Assert.Equal(x.Sum().Item(), x.To(Gpu).Sum().Cpu().Item(), 1e-3f);
    }

    [Fact]
    public void Mixing_devices_is_refused_with_a_fix()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Tensor.Ones(2, 2).Add(Tensor.Ones(2, 2).To(Gpu)));
        Assert.Contains("cpu and cuda:0", e.Message);
        Assert.Contains(".To(", e.Message);
    }

    [Fact]
    public void Autograd_on_device_tensors_is_refused_but_no_grad_inference_runs()
    {
        var w = Tensor.Ones(2, 2).To(Gpu).RequireGrad();
        var x = Tensor.Ones(2, 2).To(Gpu);
        Assert.Throws<NotSupportedException>(() => x.MatMul(w));
        using (GradMode.NoGrad()) Assert.Equal(2f, x.MatMul(w).Cpu()[0, 0]);
    }

    [Fact]
    public void Unsupported_device_ops_name_themselves()
    {
        var e = Assert.Throws<NotSupportedException>(() => Tensor.Ones(2, 3).To(Gpu).Max(0));
        Assert.Contains("max", e.Message);
    }

    [Fact]
    public void Without_a_backend_To_says_what_to_open()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Tensor.Ones(1).To(Device.Cuda(7)));
        Assert.Contains("cuda:7", e.Message);
        Assert.NotNull(sim.Backend);
    }

    [Fact]
    public void A_model_moved_to_the_device_infers_as_on_the_host()
    {
        var model = new Nabla.NN.MlpArchitecture(12, [9, 7], Nabla.NN.ActivationKind.Tanh, 4, Dropout: 0.3f).Create(new Rng(6), new Rng(7));
        model.Eval();
        var x = Random(new Rng(8), 5, 12);
        var onDevice = (Nabla.NN.Sequential)model.To(Gpu);
        Assert.NotSame(model, onDevice);
        Assert.All(onDevice.Parameters(), p => Assert.Equal(Gpu, p.Device));
        Assert.All(model.Parameters(), p => Assert.Equal(Device.Cpu, p.Device)); // the host model is untouched
        Close(model.Forward(x), onDevice.Forward(x.To(Gpu)).Cpu());
        Assert.Same(model, model.To(Device.Cpu));
        var back = onDevice.To(Device.Cpu);
        Assert.Equal(model.Parameters()[0].ToArray(), back.Parameters()[0].ToArray());
    }

    [Fact]
    public void Every_training_kernel_compiles_in_the_background()
    {
        sim.Backend.PrecompileTrainingKernels();
        sim.Backend.WaitForKernels(); // rethrows a compilation failure
    }

    [Theory]
    [InlineData("cpu", DeviceType.Cpu, 0)]
    [InlineData("cuda", DeviceType.Cuda, 0)]
    [InlineData("CUDA:2", DeviceType.Cuda, 2)]
    public void Device_parses_pytorch_spellings(string text, DeviceType type, int index) =>
        Assert.Equal(new Device(type, index), Device.Parse(text));

    [Fact]
    public void Device_parse_rejects_nonsense() => Assert.Throws<FormatException>(() => Device.Parse("gpu0"));
}
