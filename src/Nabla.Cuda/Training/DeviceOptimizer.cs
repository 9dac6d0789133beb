using ILGPU;
using ILGPU.Runtime;
using Nabla.Cuda.Kernels;
using Nabla.Optim;
using Nabla.Tensors;

namespace Nabla.Cuda.Training;

/// <summary>
/// The device side of a host <see cref="Optimizer"/>: its state buffers laid out like the parameter arena, the
/// step's constants, and the update kernel (one launch over the arena, or fused into the narrow layers' kernels). The host object stays the source of the hyper-parameters (a
/// scheduler's learning rate is read every step) and receives the state back on <see cref="Download"/>, so
/// checkpoints work the same on both devices.
/// </summary>
internal sealed class DeviceOptimizer : IDisposable
{
    private readonly CudaBackend _backend;
    private readonly int[] _offsets; // arena offset of each optimizer parameter
    private readonly int _total;
    private readonly List<(string Name, float[][] Host, MemoryBuffer1D<float, Stride1D.Dense> Device)> _state = [];
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _dummy;
    private long _step;
    private float[]? _staging; // host image of one state buffer, reused by every upload and download

    public DeviceOptimizer(CudaBackend backend, Optimizer host, IReadOnlyDictionary<Tensor, int> arena, int total)
    {
        _backend = backend;
        Host = host;
        _total = total;
        if (host is not (Sgd or Adam or RmsProp or Adagrad))
            throw new NotSupportedException($"{host.GetType().Name} has no CUDA kernel; use SGD, Adam, AdamW, RMSprop or Adagrad, or --device cpu.");
        if (host.Parameters.Length != arena.Count)
            throw new ArgumentException($"The optimizer holds {host.Parameters.Length} parameters; the model has {arena.Count}. Give it model.Parameters().");
        _offsets = new int[host.Parameters.Length];
        for (int i = 0; i < _offsets.Length; i++)
            _offsets[i] = arena.TryGetValue(host.Parameters[i], out int at) ? at
                : throw new ArgumentException($"Optimizer parameter {i} ({host.Parameters[i].Shape}) is not one of the model's.");
        foreach (var (name, buffers) in host.State()) _state.Add((name, buffers, backend.AllocateRaw<float>(total)));
        _dummy = backend.AllocateRaw<float>(1);
        Slots = host switch
        {
            Sgd => (State("momentum_buffer"), _dummy.AsArrayView(), _dummy.AsArrayView()),
            Adam => (State("exp_avg"), State("exp_avg_sq"), State("max_exp_avg_sq")),
            RmsProp => (State("square_avg"), State("grad_avg"), State("momentum_buffer")),
            _ => (State("sum"), _dummy.AsArrayView(), _dummy.AsArrayView()),
        };
        Upload();
    }

    /// <summary>Copies the host optimizer's state buffers and step count to the device (after a checkpoint restore, say).</summary>
    public void Upload()
    {
        _step = Host.Steps.Max();
        if (Host.Steps.Any(s => s != _step))
            throw new NotSupportedException("The optimizer's parameters have taken different numbers of steps; the CUDA trainer steps them together.");
        var flat = _staging ??= new float[_total];
        foreach (var (_, host, device) in _state)
        {
            for (int i = 0; i < host.Length; i++) host[i].CopyTo(flat, _offsets[i]);
            device.AsArrayView().CopyFromCPU(flat.AsSpan());
        }
    }

    public Optimizer Host { get; }

    private ArrayView<float> State(string name)
    {
        foreach (var s in _state) if (s.Name == name) return s.Device.AsArrayView();
        return _dummy.AsArrayView();
    }

    /// <summary>State slot 1, 2, 3 of the kernels (see <see cref="OptimizerKernels.Hyper"/>); unused slots are a dummy.</summary>
    public (ArrayView<float> S1, ArrayView<float> S2, ArrayView<float> S3) Slots { get; }

    /// <summary>
    /// Counts a step and returns its constants, computed as the host optimizer computes them (its learning rate is
    /// read now, so schedulers work). Every update of the step — fused into a layer kernel or not — uses them.
    /// </summary>
    public OptimizerKernels.Hyper NextStep()
    {
        _step++;
        var h = new OptimizerKernels.Hyper { Lr = Host.LearningRate, L1 = Host.L1Penalty };
        switch (Host)
        {
            case Sgd sgd:
                h.Kind = OptimizerKernels.KindSgd;
                h.WeightDecay = sgd.Options.WeightDecay;
                h.Momentum = sgd.Options.Momentum;
                h.Dampening = sgd.Options.Dampening;
                h.Flags = (sgd.Options.Momentum != 0 ? OptimizerKernels.HasMomentum : 0)
                    | (sgd.Options.Nesterov ? OptimizerKernels.Nesterov : 0) | (_step == 1 ? OptimizerKernels.FirstStep : 0);
                break;
            case Adam adam:
            {
                var o = adam.Options;
                h.Kind = OptimizerKernels.KindAdam;
                h.StepSize = h.Lr / (1 - MathF.Pow(o.Beta1, _step));
                h.Bc2Sqrt = MathF.Sqrt(1 - MathF.Pow(o.Beta2, _step));
                h.Beta1 = o.Beta1;
                h.Beta2 = o.Beta2;
                h.Eps = o.Eps;
                h.WeightDecay = o.WeightDecay;
                bool decoupled = adam is AdamW;
                h.DecayFactor = decoupled ? 1 - h.Lr * o.WeightDecay : 1;
                h.Flags = (decoupled ? OptimizerKernels.Decoupled : 0) | (o.Amsgrad ? OptimizerKernels.Amsgrad : 0);
                break;
            }
            case RmsProp rms:
            {
                var o = rms.Options;
                h.Kind = OptimizerKernels.KindRmsProp;
                h.Beta2 = o.Alpha;
                h.Eps = o.Eps;
                h.WeightDecay = o.WeightDecay;
                h.Momentum = o.Momentum;
                h.Flags = (o.Centered ? OptimizerKernels.Centered : 0) | (o.Momentum != 0 ? OptimizerKernels.HasMomentum : 0);
                break;
            }
            case Adagrad ada:
            {
                var o = ada.Options;
                h.Kind = OptimizerKernels.KindAdagrad;
                h.Lr = Host.LearningRate / (1 + (_step - 1) * o.LrDecay);
                h.Eps = o.Eps;
                h.WeightDecay = o.WeightDecay;
                break;
            }
        }
        return h;
    }

    /// <summary>Updates arena elements [offset, offset + length) from the gradient arena: one launch.</summary>
    public void Update(ArrayView<float> parameters, ArrayView<float> gradients, int offset, int length, in OptimizerKernels.Hyper h)
    {
        if (length == 0) return;
        var (s1, s2, s3) = Slots;
        _backend.Kernels.Update(length, parameters, gradients, s1, s2, s3, offset, h);
    }

    /// <summary>Copies the state buffers and step counts back into the host optimizer.</summary>
    public void Download()
    {
        var flat = _staging ??= new float[_total];
        foreach (var (_, host, device) in _state)
        {
            device.AsArrayView().CopyToCPU(flat.AsSpan());
            for (int i = 0; i < host.Length; i++) flat.AsSpan(_offsets[i], host[i].Length).CopyTo(host[i]);
        }
        Array.Fill(Host.Steps, _step);
    }

    public void Dispose()
    {
        foreach (var s in _state) s.Device.Dispose();
        _dummy.Dispose();
    }
}
