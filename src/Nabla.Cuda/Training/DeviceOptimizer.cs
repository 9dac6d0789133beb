using ILGPU;
using ILGPU.Runtime;
using Nabla.Cuda.Kernels;
using Nabla.Optim;
using Nabla.Optim.Rules;
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
    private readonly List<(string Name, TensorArena Host, MemoryBuffer1D<float, Stride1D.Dense> Device)> _state = [];
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _dummy;
    private long _step;
    private float[]? _staging; // host image of one state buffer, reused by every upload and download

    public DeviceOptimizer(CudaBackend backend, Optimizer host, IReadOnlyDictionary<Tensor, int> arena, int total)
    {
        _backend = backend;
        Host = host;
        _total = total;
        if (host.Parameters.Length != arena.Count)
            throw new ArgumentException($"The optimizer holds {host.Parameters.Length} parameters; the model has {arena.Count}. Give it model.Parameters().");
        _offsets = new int[host.Parameters.Length];
        for (int i = 0; i < _offsets.Length; i++)
            _offsets[i] = arena.TryGetValue(host.Parameters[i], out int at) ? at
                : throw new ArgumentException($"Optimizer parameter {i} ({host.Parameters[i].Shape}) is not one of the model's.");
        foreach (var (name, buffers) in host.State()) _state.Add((name, buffers, backend.AllocateRaw<float>(total)));
        _dummy = backend.AllocateRaw<float>(1);
        var names = host.SlotNames;
        Slots = (State(names[0]), State(names[1]), State(names[2]));
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
            for (int i = 0; i < host.Count; i++) host[i].Data.CopyTo(flat.AsSpan(_offsets[i]));
            device.AsArrayView().CopyFromCPU(flat.AsSpan());
        }
    }

    public Optimizer Host { get; }

    /// <summary>The device buffer of state <paramref name="name"/>; an empty view for a slot the rule does not use.</summary>
    private ArrayView<float> State(string? name)
    {
        foreach (var s in _state) if (s.Name == name) return s.Device.AsArrayView();
        return _dummy.AsArrayView().SubView(0, 0);
    }

    /// <summary>State slots 1, 2, 3 of the rule (see <see cref="LaneState{T}"/>); unused slots are empty.</summary>
    public (ArrayView<float> S1, ArrayView<float> S2, ArrayView<float> S3) Slots { get; }

    /// <summary>
    /// Counts a step and returns its constants, computed as the host optimizer computes them (its learning rate is
    /// read now, so schedulers work). Every update of the step — fused into a layer kernel or not — uses them.
    /// </summary>
    public StepConstants NextStep()
    {
        _step++;
        var k = Host.Constants(_step);
        k.L1 = Host.L1Penalty;
        return k;
    }

    /// <summary>Updates arena elements [offset, offset + length) from the gradient arena: one launch.</summary>
    public void Update(ArrayView<float> parameters, ArrayView<float> gradients, int offset, int length, in StepConstants h)
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
            for (int i = 0; i < host.Count; i++) flat.AsSpan(_offsets[i], host[i].Size).CopyTo(host[i].Data);
        }
        Array.Fill(Host.Steps, _step);
    }

    public void Dispose()
    {
        foreach (var s in _state) s.Device.Dispose();
        _dummy.Dispose();
    }
}
