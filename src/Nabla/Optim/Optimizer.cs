using Nabla.Compute;
using Nabla.Tensors;

namespace Nabla.Optim;

/// <summary>
/// Base of the optimizers (torch.optim.Optimizer): holds the parameters, runs the per-element update of the
/// subclass over each parameter — split into fixed chunks run in parallel for large parameters, which cannot
/// change a result since the update is element-wise — and applies the optional L1 penalty.
/// State buffers are allocated once, in the constructor; <see cref="Step"/> allocates nothing.
/// </summary>
public abstract class Optimizer
{
    private const int Chunk = 4_096; // elements per parallel part; fixed, so the split never depends on the threads
    private readonly float[]?[] _scratch;
    private readonly ChunkJob _job;

    /// <summary>Takes the parameters to update (typically <c>model.Parameters()</c>).</summary>
    /// <exception cref="ArgumentException">No parameters.</exception>
    protected Optimizer(IReadOnlyList<Tensor> parameters, float learningRate)
    {
        if (parameters.Count == 0) throw new ArgumentException("An optimizer needs at least one parameter.");
        CheckNonNegative(learningRate, "learning rate");
        Parameters = [.. parameters];
        LearningRate = learningRate;
        Steps = new long[Parameters.Length];
        _scratch = new float[Parameters.Length][];
        _job = new ChunkJob(this);
    }

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

    /// <summary>The pool that runs large updates in parallel (default: <see cref="WorkerPool.Default"/>).</summary>
    public WorkerPool? Pool { get; set; }

    /// <summary>
    /// The optimizer's per-parameter state buffers by name (PyTorch's names: <c>exp_avg</c>, <c>exp_avg_sq</c>, …),
    /// one array per parameter, for checkpoints. Restoring means copying into these arrays (and <see cref="Steps"/>).
    /// </summary>
    public virtual IEnumerable<(string Name, float[][] Buffers)> State() => [];

    /// <summary>Clears every parameter's gradient buffer (keeping it allocated).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.Grad?.Data.Clear();
    }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        var pool = Pool ?? WorkerPool.Default;
        for (int i = 0; i < Parameters.Length; i++)
        {
            var p = Parameters[i];
            if (p.Grad is null) continue;
            Steps[i]++;
            if (L1Penalty != 0)
            {
                var s = _scratch[i] ??= new float[p.Size];
                // g + λ₁·sign(θ): the subgradient of λ₁‖θ‖₁.
                var theta = p.Data;
                var g = p.Grad.Data;
                for (int j = 0; j < s.Length; j++) s[j] = g[j] + L1Penalty * MathF.Sign(theta[j]);
            }
            int chunks = (p.Size + Chunk - 1) / Chunk;
            if (chunks < 4 || pool.Threads == 1) UpdateRange(i, 0, p.Size);
            else
            {
                _job.Parameter = i;
                pool.For(chunks, _job);
            }
        }
    }

    private void UpdateRange(int i, int start, int count)
    {
        var p = Parameters[i];
        ReadOnlySpan<float> g = L1Penalty != 0 ? _scratch[i] : p.Grad!.Data;
        Update(i, start, p.Data.Slice(start, count), g.Slice(start, count));
    }

    /// <summary>
    /// The update rule on elements [offset, offset + θ.Length) of parameter <paramref name="index"/>; state
    /// buffers are indexed the same way. <see cref="Steps"/>[index] already counts this step.
    /// </summary>
    protected abstract void Update(int index, int offset, Span<float> theta, ReadOnlySpan<float> grad);

    /// <summary>One zeroed state buffer per parameter, shaped like it.</summary>
    protected float[][] StateLike() => [.. Parameters.Select(p => new float[p.Size])];

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
            owner.UpdateRange(Parameter, start, Math.Min(Chunk, owner.Parameters[Parameter].Size - start));
        }
    }
}
