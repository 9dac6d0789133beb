using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nabla.Compute;
using Nabla.Optim.Rules;
using Nabla.Tensors;

namespace Nabla.Optim;

/// <summary>
/// Base of the optimizers (torch.optim.Optimizer): holds the parameters and runs the subclass's update rule
/// (<see cref="UpdateRules"/>, written once for every device) over each parameter with the step's
/// <see cref="Constants"/> — in the widest SIMD lanes the CPU has, then one float at a time, and split into fixed
/// chunks run in parallel for large parameters, none of which can change a result since the update is element-wise.
/// State buffers are allocated once, in the constructor; <see cref="Step"/> allocates nothing.
/// </summary>
/// <remarks>
/// Gradients are data: the constructor gathers the parameters into one <see cref="TensorArena"/> (unless they
/// already are one, or cannot be: device tensors, views), gives them a gradient arena of the same layout (each
/// <see cref="Tensor.Grad"/> a view into it) and lays its state out in arenas of that layout too. Then
/// <see cref="ZeroGrad"/> is one clear and a step is one loop over the arenas, as when every parameter had the same
/// number of steps; otherwise (a gradient replaced, a parameter skipped) it steps parameter by parameter, the same bits.
/// </remarks>
public abstract class Optimizer
{
    private const int Chunk = 4_096; // elements per parallel part; fixed, so the split never depends on the threads
    private readonly ChunkJob _job;
    private StepConstants _k; // the running parameter's step constants
    private int _width = 1; // floats per SIMD lane for this step, from the caller's context
    private WorkerPool? _pool; // the pool for this step's large updates

    /// <summary>Takes the parameters to update (typically <c>model.Parameters()</c>).</summary>
    /// <exception cref="ArgumentException">No parameters.</exception>
    protected Optimizer(IReadOnlyList<Tensor> parameters, float learningRate)
    {
        if (parameters.Count == 0) throw new ArgumentException("An optimizer needs at least one parameter.");
        CheckNonNegative(learningRate, "learning rate");
        Parameters = [.. parameters];
        LearningRate = learningRate;
        Steps = new long[Parameters.Length];
        _job = new ChunkJob(this);
        Arena = TensorArena.OfParameters(Parameters);
    }

    /// <summary>The arena the parameters live in, in order (null when they could not be gathered: device tensors, views).</summary>
    public TensorArena? Arena { get; }

    /// <summary>The parameters, in order.</summary>
    public Tensor[] Parameters { get; }

    /// <summary>The learning rate γ used by the next <see cref="Step"/>; schedulers change it.</summary>
    public float LearningRate { get; set; }

    /// <summary>L1 penalty λ₁: adds <c>λ₁·sign(θ)</c> to each gradient before the update (0: off).</summary>
    public float L1Penalty
    {
        get;
        init { CheckNonNegative(value, "L1 penalty"); field = value; }
    }

    /// <summary>Updates taken so far, per parameter (PyTorch's <c>state['step']</c>).</summary>
    public long[] Steps { get; }

    /// <summary>The pool that runs large updates in parallel (default: the current <see cref="ComputeContext"/>'s).</summary>
    public WorkerPool? Pool { get; set; }

    /// <summary>
    /// The optimizer's state buffers by name (PyTorch's names: <c>exp_avg</c>, <c>exp_avg_sq</c>, …), each an arena of the
    /// parameters' layout (tensor <c>i</c> is parameter <c>i</c>'s), for checkpoints. Restoring means copying into these
    /// tensors (and <see cref="Steps"/>).
    /// </summary>
    public virtual IEnumerable<(string Name, TensorArena Buffers)> State() => [];

    /// <summary>
    /// Which of <see cref="State"/>'s buffers fill the rule's slots 1, 2 and 3 (see <see cref="LaneState{T}"/>);
    /// null for a slot the rule does not use. Device backends lay out their state by it.
    /// </summary>
    public abstract IReadOnlyList<string?> SlotNames { get; }

    /// <summary>
    /// <see cref="LearningRate"/> as the decimal double it stands for (<see cref="StepConstants.Decimal"/>), cached:
    /// converting costs a string, and a step allocates nothing.
    /// </summary>
    protected double DecimalLearningRate
    {
        get
        {
            if (_decimalLrOf != LearningRate || _decimalLr == 0) (_decimalLrOf, _decimalLr) = (LearningRate, StepConstants.Decimal(LearningRate));
            return _decimalLr;
        }
    }

    private float _decimalLrOf;
    private double _decimalLr;

    /// <summary>The constants of this optimizer's step number <paramref name="step"/> (1 for the first), as PyTorch computes them.</summary>
    internal abstract StepConstants Constants(long step);

    /// <summary>Clears every parameter's gradient buffer (keeping it allocated): one clear of the gradient arena.</summary>
    public void ZeroGrad() => TensorArena.ZeroGradients(Parameters);

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        if (WholeArena())
        {
            for (int i = 0; i < Steps.Length; i++) Steps[i]++;
            Begin(Steps[0]);
            UpdateParameter(Whole);
            return;
        }
        for (int i = 0; i < Parameters.Length; i++)
        {
            if (Parameters[i].Grad is null) continue;
            BeginParameter(i);
            UpdateParameter(i);
        }
    }

    /// <summary>
    /// Starts parameter <paramref name="i"/>'s update of this step: counts the step and sets its constants, which
    /// <see cref="UpdateRange"/> then applies to any range of its elements, from any thread, in any order.
    /// </summary>
    internal void BeginParameter(int i) => Begin(++Steps[i]);

    private void Begin(long step)
    {
        // Read on the calling thread: the workers that run parts of the update see no context of their own.
        var context = ComputeContext.Current;
        (_width, _pool) = (context.VectorWidth, Pool ?? context.Pool);
        _k = Constants(step);
        _k.L1 = L1Penalty;
    }

    /// <summary>The index <see cref="UpdateParameter"/> and <see cref="UpdateRange"/> take for the whole arena at once.</summary>
    private const int Whole = -1;

    /// <summary>
    /// Whether this step can be one loop over the arenas: every parameter's gradient is its view in the gradient
    /// arena and every parameter has taken the same number of steps (so one set of constants is every parameter's).
    /// </summary>
    private bool WholeArena()
    {
        if (Arena?.Gradients is not { } grads) return false;
        for (int i = 0; i < Parameters.Length; i++)
            if (Parameters[i].Grad is not { } g || !grads.Holds(g, i) || Steps[i] != Steps[0]) return false;
        return true;
    }

    /// <summary>Updates all of parameter <paramref name="i"/> (after <see cref="BeginParameter"/>), large ones in parallel chunks.</summary>
    internal void UpdateParameter(int i)
    {
        var pool = _pool ?? ComputeContext.Current.Pool;
        int size = i == Whole ? Arena!.Length : Parameters[i].Size;
        int chunks = (size + Chunk - 1) / Chunk;
        if (chunks < 4 || pool.ActiveThreads == 1) UpdateRange(i, 0, size);
        else
        {
            _job.Parameter = i;
            pool.For(chunks, _job);
        }
    }

    /// <summary>The index of <paramref name="p"/> among <see cref="Parameters"/> (by reference), or −1.</summary>
    internal int IndexOf(Tensor p) => Array.IndexOf(Parameters, p);

    /// <summary>The state arena of slot <paramref name="slot"/> (null where unused).</summary>
    private TensorArena? Slot(int slot)
    {
        string? name = SlotNames[slot];
        if (name is null) return null;
        foreach (var (n, buffers) in State()) if (n == name) return buffers;
        return null;
    }

    /// <summary>
    /// Updates elements [start, start + count) of parameter <paramref name="i"/> (or of the whole arena, for
    /// <see cref="Whole"/>) with the constants <see cref="BeginParameter"/> set.
    /// </summary>
    internal void UpdateRange(int i, int start, int count)
    {
        var (s1, s2, s3) = _slots;
        Span<float> theta, grad, a = default, b = default, c = default;
        if (i == Whole)
        {
            theta = Arena!.Data.Slice(start, count);
            grad = Arena.Gradients!.Data.Slice(start, count);
            if (s1 is not null) a = s1.Data.Slice(start, count);
            if (s2 is not null) b = s2.Data.Slice(start, count);
            if (s3 is not null) c = s3.Data.Slice(start, count);
        }
        else
        {
            theta = Parameters[i].Data.Slice(start, count);
            grad = Parameters[i].Grad!.Data.Slice(start, count);
            if (s1 is not null) a = s1[i].Data.Slice(start, count);
            if (s2 is not null) b = s2[i].Data.Slice(start, count);
            if (s3 is not null) c = s3[i].Data.Slice(start, count);
        }
        if (_k.Kind == RuleKind.Sgd && (_k.Flags & StepConstants.HasMomentum) == 0 && _k.WeightDecay == 0 && _k.L1 == 0)
        {
            // The textbook's plain SGD, θ ← fma(g, −γ, θ): UpdateRules.Sgd's arithmetic exactly (a test holds them to
            // the same bits), in an unrolled loop, which a one-line rule gains most from.
            AddScaled(theta, grad, -_k.Lr, _width);
            return;
        }
        int done = 0;
        if (_width >= 16 && Vector512Lane.IsSupported) done = Run<Vector512Lane>(theta, grad, a, b, c, _k, done);
        if (_width >= 8 && Vector256Lane.IsSupported) done = Run<Vector256Lane>(theta, grad, a, b, c, _k, done);
        Run<ScalarLane>(theta, grad, a, b, c, _k, done);
    }

    /// <summary>
    /// <c>θ[i] = fma(g[i], a, θ[i])</c>, four vectors per trip. Written here rather than with
    /// <c>TensorPrimitives.FusedMultiplyAdd</c>, which computes the same bits but takes milliseconds to compile at a
    /// run's first step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddScaled(Span<float> theta, ReadOnlySpan<float> grad, float a, int width)
    {
        if (grad.Length < theta.Length) throw new ArgumentException("Fewer gradients than parameters.");
        int i = 0, n = theta.Length;
        if (width >= 16 && Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(a);
            for (; i <= n - 64; i += 64)
            {
                Vector512.FusedMultiplyAdd(Vector512.Create(grad.Slice(i, 16)), va, Vector512.Create(theta.Slice(i, 16))).CopyTo(theta.Slice(i, 16));
                Vector512.FusedMultiplyAdd(Vector512.Create(grad.Slice(i + 16, 16)), va, Vector512.Create(theta.Slice(i + 16, 16))).CopyTo(theta.Slice(i + 16, 16));
                Vector512.FusedMultiplyAdd(Vector512.Create(grad.Slice(i + 32, 16)), va, Vector512.Create(theta.Slice(i + 32, 16))).CopyTo(theta.Slice(i + 32, 16));
                Vector512.FusedMultiplyAdd(Vector512.Create(grad.Slice(i + 48, 16)), va, Vector512.Create(theta.Slice(i + 48, 16))).CopyTo(theta.Slice(i + 48, 16));
            }
            for (; i <= n - 16; i += 16)
                Vector512.FusedMultiplyAdd(Vector512.Create(grad.Slice(i, 16)), va, Vector512.Create(theta.Slice(i, 16))).CopyTo(theta.Slice(i, 16));
        }
        if (width >= 8 && Vector256.IsHardwareAccelerated && Fma.IsSupported)
        {
            var va = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
                Vector256.FusedMultiplyAdd(Vector256.Create(grad.Slice(i, 8)), va, Vector256.Create(theta.Slice(i, 8))).CopyTo(theta.Slice(i, 8));
        }
        for (; i < n; i++) theta[i] = MathF.FusedMultiplyAdd(grad[i], a, theta[i]);
    }

    /// <summary>Runs the rule over elements [from, …) in lanes of <typeparamref name="T"/>; returns where it stopped.</summary>
    /// <remarks>
    /// Never inlined: with tiered compilation on (a library user's default), callers recompiled at tier 1 inlined it
    /// and ran out of inlining budget inside it, leaving every lane operation of the rule a call (Adam's step took
    /// 130 µs instead of 24). Compiled on its own, the whole rule is inlined into its loop.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static int Run<T>(Span<float> theta, ReadOnlySpan<float> grad, Span<float> s1, Span<float> s2, Span<float> s3,
        StepConstants k, int from) where T : struct, IHostLane<T>
    {
        int w = T.Width, i = from;
        bool h1 = !s1.IsEmpty, h2 = !s2.IsEmpty, h3 = !s3.IsEmpty;
        for (; i <= theta.Length - w; i += w)
        {
            var x = new LaneState<T> { Theta = T.Load(theta, i) };
            if (h1) x.S1 = T.Load(s1, i);
            if (h2) x.S2 = T.Load(s2, i);
            if (h3) x.S3 = T.Load(s3, i);
            x = UpdateRules.Apply(x, T.Load(grad, i), k);
            T.Store(x.Theta, theta, i);
            if (h1) T.Store(x.S1, s1, i);
            if (h2) T.Store(x.S2, s2, i);
            if (h3) T.Store(x.S3, s3, i);
        }
        return i;
    }

    private (TensorArena? S1, TensorArena? S2, TensorArena? S3) _slots;

    /// <summary>Binds the slots to the state buffers; subclasses call it at the end of their constructor.</summary>
    protected void BindSlots() => _slots = (Slot(0), Slot(1), Slot(2));

    /// <summary>A zeroed state buffer per parameter, shaped like it, as one arena of the parameters' layout.</summary>
    protected TensorArena StateLike() => Arena?.Like() ?? TensorArena.Create([.. Parameters.Select(p => p.Shape)]);

    /// <summary>Throws a clear error for a negative or non-finite hyper-parameter.</summary>
    protected static void CheckNonNegative(float value, string name)
    {
        if (!(value >= 0) || float.IsInfinity(value)) throw new ArgumentOutOfRangeException(name, $"Invalid {name}: {value} (must be a finite number ≥ 0).");
    }

    /// <summary>Throws a clear error for a value outside [0, 1).</summary>
    protected static void CheckUnit(float value, string name)
    {
        if (!(value >= 0 && value < 1)) throw new ArgumentOutOfRangeException(name, $"Invalid {name}: {value} (must be in [0, 1)).");
    }

    private sealed class ChunkJob(Optimizer owner) : IParallelBody
    {
        public int Parameter;

        public void Run(int index)
        {
            int start = index * Chunk;
            int size = Parameter == Whole ? owner.Arena!.Length : owner.Parameters[Parameter].Size;
            owner.UpdateRange(Parameter, start, Math.Min(Chunk, size - start));
        }
    }
}
