using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// A layer or a model, as PyTorch's <c>nn.Module</c>. Two ways to run it:
/// <list type="bullet">
/// <item><see cref="Forward"/> on tensors, recorded by autograd: general, allocates, for experiments and tests.</item>
/// <item><see cref="ForwardBatch"/>/<see cref="BackwardBatch"/> on caller-owned (batch, features) buffers, the
/// explicit-layer form of llm.c: no graph, no allocation, used by the training loop through
/// <see cref="BatchEngine"/>. Both forms compute the same function; tests hold them to it.</item>
/// </list>
/// </summary>
public abstract class Module
{
    /// <summary>True in training mode (dropout active), false after <see cref="Eval"/>.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Sets training mode on this module and its children.</summary>
    public void Train(bool mode = true)
    {
        IsTraining = mode;
        foreach (var (_, child) in NamedChildren()) child.Train(mode);
    }

    /// <summary>Sets evaluation mode (dropout off).</summary>
    public void Eval() => Train(false);

    /// <summary>
    /// Tells this module which training step runs next (0-based epoch and batch). Stochastic layers (dropout)
    /// draw their randomness as a function of it, so that every device, and a run resumed mid-epoch, draws the
    /// same. The trainer calls it on every module of <see cref="Modules"/> before each step; the default does nothing.
    /// </summary>
    public virtual void SetStep(int epoch, int batch) { }

    /// <summary>This module and all its descendants, depth first (PyTorch's <c>modules()</c>).</summary>
    public IEnumerable<Module> Modules()
    {
        yield return this;
        foreach (var (_, child) in NamedChildren())
            foreach (var m in child.Modules()) yield return m;
    }

    /// <summary>
    /// This module with its parameters on <paramref name="device"/>, for inference there: itself when every
    /// parameter is already there, else a copy (device parameters carry no gradient: autograd runs on the host).
    /// Unlike PyTorch's in-place <c>module.to(device)</c>, the host module is left as it was.
    /// </summary>
    public virtual Module To(Devices.Device device) => this;

    /// <summary>
    /// Class probabilities for the rows of <paramref name="x"/> (batch, features): the softmax of the model's
    /// outputs, in evaluation mode (dropout off) and without recording gradients; the module's mode is restored.
    /// </summary>
    public Tensor PredictProba(Tensor x) => Autograd.Ops.Softmax(PredictValues(x), -1);

    /// <summary>
    /// The model's raw outputs for the rows of <paramref name="x"/>: a regression's predicted values (a classifier's
    /// logits), in evaluation mode and without recording gradients, as PyTorch's <c>model.eval()</c> under
    /// <c>torch.no_grad()</c>; the module's mode is restored.
    /// </summary>
    public Tensor PredictValues(Tensor x)
    {
        bool training = IsTraining;
        Eval();
        try
        {
            using (Autograd.GradMode.NoGrad()) return Forward(x);
        }
        finally
        {
            Train(training);
        }
    }

    /// <summary>The most likely class of each row of <paramref name="x"/> (batch, features), as <see cref="PredictProba"/> ranks them.</summary>
    public int[] Predict(Tensor x)
    {
        var p = PredictProba(x);
        int classes = p.Shape[p.Rank - 1], rows = p.Size / Math.Max(classes, 1);
        var data = p.Data;
        var best = new int[rows];
        for (int r = 0; r < rows; r++) best[r] = TensorPrimitives.IndexOfMax(data.Slice(r * classes, classes));
        return best;
    }

    /// <summary>Applies the module to <paramref name="x"/>, recording the operations for autograd.</summary>
    public abstract Tensor Forward(Tensor x);

    /// <summary>The direct sub-modules with their names ("0", "1", … in a <see cref="Sequential"/>).</summary>
    public virtual IEnumerable<(string Name, Module Module)> NamedChildren() => [];

    /// <summary>This module's own parameters (not its children's).</summary>
    protected virtual IEnumerable<(string Name, Tensor Parameter)> OwnParameters() => [];

    /// <summary>Every parameter with its PyTorch-style dotted name, e.g. <c>1.weight</c>.</summary>
    public IReadOnlyList<(string Name, Tensor Parameter)> NamedParameters()
    {
        var list = new List<(string, Tensor)>(OwnParameters());
        foreach (var (name, child) in NamedChildren())
            foreach (var (pn, p) in child.NamedParameters()) list.Add((name + "." + pn, p));
        return list;
    }

    /// <summary>
    /// The module's state by PyTorch's names (<c>module.state_dict()</c>): every parameter of it and its children,
    /// custom modules included. The tensors are the module's own.
    /// </summary>
    public StateDict StateDict()
    {
        var state = new StateDict();
        foreach (var (name, p) in NamedParameters()) state.Add(name, p);
        return state;
    }

    /// <summary>
    /// Copies <paramref name="state"/>'s values into this module's parameters by name (<c>module.load_state_dict</c>).
    /// With <paramref name="strict"/> (the default), every parameter must be there and nothing else; otherwise what did
    /// not match is returned. Shapes must match either way. Nothing is copied unless every check passes.
    /// </summary>
    /// <exception cref="ArgumentException">A shape differs, or (strict) a key is missing or unexpected; the message lists them.</exception>
    public IncompatibleKeys LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = NamedParameters();
        var missing = own.Where(p => !state.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        var known = own.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var unexpected = state.Keys.Where(k => !known.Contains(k)).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
            throw new ArgumentException($"Error(s) in loading state_dict for {GetType().Name}:" +
                (missing.Count > 0 ? $" missing key(s): {string.Join(", ", missing)}." : "") +
                (unexpected.Count > 0 ? $" unexpected key(s): {string.Join(", ", unexpected)}." : ""));
        foreach (var (name, p) in own)
            if (state.TryGetValue(name, out var t) && t.Shape != p.Shape)
                throw new ArgumentException($"Error(s) in loading state_dict for {GetType().Name}: '{name}' has shape {t.Shape} in the state dict but {p.Shape} in the module.");
        foreach (var (name, p) in own)
            if (state.TryGetValue(name, out var t)) t.Data.CopyTo(p.Data);
        return new IncompatibleKeys(missing, unexpected);
    }

    /// <summary>Every parameter, in <see cref="NamedParameters"/> order.</summary>
    public Tensor[] Parameters() => NamedParameters().Select(p => p.Parameter).ToArray();

    /// <summary>
    /// The one arena this model's parameters live in, in <see cref="Parameters"/> order, with their gradient arena
    /// beside it (each parameter's <see cref="Tensor.Grad"/> a view there): gathered the first time (an optimizer over
    /// <c>model.Parameters()</c> gathers them too). Null when they cannot be one arena: on a device, views, or split
    /// between optimizers that gathered parts of them.
    /// </summary>
    public TensorArena? ParameterArena() => TensorArena.OfParameters(Parameters());

    /// <summary>Zeroes every parameter's gradient buffer in place (keeping the buffers): one clear of the gradient arena.</summary>
    public void ZeroGrad() => TensorArena.ZeroGradients(Parameters());

    /// <summary>Short description for summaries, e.g. <c>Linear(in=784, out=32)</c>.</summary>
    public override string ToString() => GetType().Name + "()";

    // ---- explicit-layer form ----------------------------------------------------------------------

    /// <summary>Features per sample of the output, given those of the input; the input must be (batch, features).</summary>
    /// <exception cref="NotSupportedException">The module has no explicit-layer form.</exception>
    public virtual int OutputFeatures(int inputFeatures) =>
        throw new NotSupportedException($"{GetType().Name} has no explicit-layer (batch buffer) form.");

    /// <summary>
    /// What this layer is, as a <see cref="LayerPlan"/> records it, on inputs of <paramref name="inputFeatures"/> per
    /// sample; null for a module that is not one of the built-in layers (it runs through autograd, and a model holding it
    /// is saved as its state dict). Each built-in layer describes itself: the plan has no list of layer types to keep.
    /// </summary>
    internal virtual LayerSpec? Spec(int inputFeatures) => null;

    /// <summary>The input width this layer fixes (a Linear's in_features), or null when it takes any width.</summary>
    internal virtual int? FixedInputFeatures => null;

    /// <summary>True for a module whose output is its input unchanged (Flatten): the engine passes the buffer on.</summary>
    public virtual bool IsIdentity => false;

    /// <summary>Allocates whatever per-batch state the module needs (dropout masks) for up to <paramref name="maxBatch"/> rows.</summary>
    public virtual void Prepare(int maxBatch, int inputFeatures) { }

    /// <summary><c>y = f(x)</c> for x (batch, in) into y (batch, out); allocates nothing.</summary>
    public virtual void ForwardBatch(ReadOnlySpan<float> x, Span<float> y, int batch, int inputFeatures) =>
        throw new NotSupportedException($"{GetType().Name} has no explicit-layer (batch buffer) form.");

    /// <summary>
    /// Given the forward's x and y and dy = dℓ/dy, adds the parameter gradients into their Grad buffers and, if
    /// <paramref name="dx"/> is not empty, writes dℓ/dx into it; allocates nothing.
    /// </summary>
    public virtual void BackwardBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures) =>
        throw new NotSupportedException($"{GetType().Name} has no explicit-layer (batch buffer) form.");

    /// <summary>
    /// <see cref="BackwardBatch"/> as <see cref="BatchEngine"/> runs it: the gradients of <paramref name="own"/> (this
    /// module's parameters) written afresh when <paramref name="overwrite"/> (the same bits as clearing them first),
    /// and each of them announced to <paramref name="sink"/> once its gradient is final (the fused step updates it then). Modules
    /// that can do better override it (<see cref="Linear"/>: weight rows stepped as the gradient GEMM finishes them).
    /// </summary>
    internal virtual void BackwardStep(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures, Tensor[] own, bool overwrite, IGradientSink? sink)
    {
        if (overwrite) foreach (var p in own) p.Grad?.Data.Clear();
        BackwardBatch(x, y, dy, dx, batch, inputFeatures);
        if (sink is not null) foreach (var p in own) sink.GradientReady(p);
    }

    /// <summary>
    /// <see cref="ForwardBatch"/> with every row given the bits it would have in a batch of <paramref name="rowsLike"/>
    /// rows (a process's share of a batch's rows). Only modules whose arithmetic per row depends on the batch's
    /// size override it (<see cref="Linear"/>: its GEMM's kernel is chosen by shape).
    /// </summary>
    internal virtual void ForwardRows(ReadOnlySpan<float> x, Span<float> y, int batch, int inputFeatures, int rowsLike) =>
        ForwardBatch(x, y, batch, inputFeatures);

    /// <summary>
    /// The backward of one process's share of a batch (see <see cref="IRowSharing"/>): dℓ/dx of its own rows into
    /// <paramref name="dx"/> (empty: not needed), and, for a module with parameters, its share of each parameter
    /// gradient's rows computed from every row of the batch, written (not added), then the rest gathered from the
    /// other processes (<see cref="IRowSharing.AllGatherGradient"/>). Every element is computed as in the one-process backward
    /// of the whole batch, so the bits are those of <see cref="BackwardStep"/> for any number of processes.
    /// <paramref name="x"/> and <paramref name="y"/> hold the forward's rows, <paramref name="dy"/> the gradient's;
    /// those of other processes are valid only where a module with parameters needs them (the engine gathers them).
    /// A module without parameters runs its plain backward on its own rows; one with parameters must say how its
    /// gradient splits (<see cref="Linear"/> does).
    /// </summary>
    internal virtual void BackwardShare(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures, Tensor[] own, IRowSharing sharing)
    {
        if (own.Length > 0) throw new NotSupportedException($"{GetType().Name} cannot split its parameter gradients among processes.");
        var (r0, r1) = IRowSharing.Share(batch, sharing.Rank, sharing.Size);
        int output = OutputFeatures(inputFeatures), rows = r1 - r0;
        BackwardStep(x.Slice(r0 * inputFeatures, rows * inputFeatures), y.Slice(r0 * output, rows * output), dy.Slice(r0 * output, rows * output),
            dx.IsEmpty ? dx : dx.Slice(r0 * inputFeatures, rows * inputFeatures), rows, inputFeatures, own, overwrite: true, sink: null);
    }
}
