using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// Runs a <see cref="Sequential"/> of explicit layers over preallocated buffers (llm.c's structure): one
/// activation buffer and one gradient buffer per layer, sized once for the largest batch, reused every step.
/// A training step through it allocates nothing. The forward keeps every layer's output, which is all the
/// backward needs (the textbook's forward loop storing what the backward loop consumes).
/// </summary>
public sealed class BatchEngine
{
    private readonly Module[] _layers;
    private readonly int[] _features;     // _features[i] = features entering layer i; last = output features
    private readonly Memory<float>[] _acts;  // _acts[i] = output buffer of layer i, (maxBatch, _features[i+1])
    private readonly Memory<float>[] _grads; // _grads[i] = dℓ/d(input of layer i), (maxBatch, _features[i])
    private readonly Memory<float>[] _out;   // _out[i] = what layer i's output is this step (its buffer, or its input for identities)
    private readonly int _firstTrainable; // layers before it need no gradient at all
    private readonly Tensor[][] _own;     // _own[i] = layer i's own parameters
    private readonly int _lastComputed;   // the last layer that is not an identity: its output is the model's
    private readonly bool[] _gathered;    // _gathered[i]: in a shared step, layer i's output is gathered (a later layer with parameters reads it, or it is the model's output)
    private Memory<float> _input;
    private int _batch;

    /// <summary>Sizes the buffers for <paramref name="model"/> on inputs of <paramref name="inputFeatures"/> per sample.</summary>
    /// <exception cref="NotSupportedException">A layer has no explicit form.</exception>
    public BatchEngine(Sequential model, int inputFeatures, int maxBatch) : this(model, inputFeatures, maxBatch, null) { }

    /// <summary>
    /// <see cref="BatchEngine(Sequential, int, int)"/> with the activation and gradient buffers from
    /// <paramref name="allocate"/> (floats → a zeroed buffer; null: arrays): a data-parallel job on one host places them
    /// in memory its processes share, so that a process's rows are the others' without a copy.
    /// </summary>
    internal BatchEngine(Sequential model, int inputFeatures, int maxBatch, Func<int, Memory<float>>? allocate)
    {
        allocate ??= n => new float[n];
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), "The batch size must be at least 1.");
        Model = model;
        MaxBatch = maxBatch;
        _layers = [.. model.Layers];
        int n = _layers.Length;
        _features = new int[n + 1];
        _features[0] = inputFeatures;
        _acts = new Memory<float>[n];
        _grads = new Memory<float>[n];
        _out = new Memory<float>[n];
        _own = new Tensor[n][];
        _firstTrainable = n;
        for (int i = 0; i < n; i++)
        {
            _features[i + 1] = _layers[i].OutputFeatures(_features[i]);
            _layers[i].Prepare(maxBatch, _features[i]);
            _acts[i] = _layers[i].IsIdentity ? Memory<float>.Empty : allocate(maxBatch * _features[i + 1]);
            _grads[i] = allocate(maxBatch * _features[i]);
            _own[i] = [.. _layers[i].NamedParameters().Select(np => np.Parameter)];
            if (_firstTrainable == n && _own[i].Length > 0) _firstTrainable = i;
        }
        foreach (var p in model.Parameters()) p.Grad ??= new Tensor(p.Shape);
        _gathered = new bool[n];
        for (int i = 0, reader = -1; i < n; i++)
        {
            if (_layers[i].IsIdentity) continue;
            for (reader = i + 1; reader < n && _layers[reader].IsIdentity; reader++) { }
            _gathered[i] = reader == n || _own[reader].Length > 0;
            _lastComputed = i;
        }
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        EachParameterOnce = _own.All(own => own.All(seen.Add));
    }

    /// <summary>
    /// Whether no parameter belongs to two layers (the same module twice, tied weights). Only then may a backward
    /// pass write a gradient instead of adding to it, or update a parameter once its layer is done.
    /// </summary>
    internal bool EachParameterOnce { get; }

    /// <summary>The model this engine runs.</summary>
    public Sequential Model { get; }

    /// <summary>Largest batch the buffers hold.</summary>
    public int MaxBatch { get; }

    /// <summary>Features per sample of the model's output (classes, for a classifier).</summary>
    public int OutputFeatures => _features[^1];

    /// <summary>Features per sample of the model's input.</summary>
    public int InputFeatures => _features[0];

    /// <summary>
    /// Runs the model on <paramref name="x"/> (batch, InputFeatures). The returned span (batch, OutputFeatures)
    /// is the engine's own buffer, valid until the next call. Training mode is the model's.
    /// </summary>
    public ReadOnlySpan<float> Forward(float[] x, int batch)
    {
        Start(x, batch);
        Memory<float> current = x;
        for (int i = 0; i < _layers.Length; i++)
        {
            if (!_layers[i].IsIdentity)
            {
                _layers[i].ForwardBatch(current.Span, _acts[i].Span[..(batch * _features[i + 1])], batch, _features[i]);
                current = _acts[i];
            }
            _out[i] = current; // an identity layer (Flatten) passes its input buffer on, uncopied
        }
        return current.Span[..(batch * _features[^1])];
    }

    /// <summary>
    /// <see cref="Forward(float[], int)"/> of this process's share of the batch's rows (<see cref="IRowSharing"/>),
    /// each row with the bits it has in the whole batch. <paramref name="x"/> must hold every row of the batch (a
    /// weight gradient needs them all). Layer outputs that a later layer with parameters reads are gathered from the
    /// other processes, and so is the model's output: the returned span holds every row.
    /// </summary>
    internal ReadOnlySpan<float> ForwardShare(Memory<float> x, int batch, IRowSharing sharing)
    {
        Start(x, batch);
        var (r0, r1) = IRowSharing.Share(batch, sharing.Rank, sharing.Size);
        int rows = r1 - r0;
        Memory<float> current = x;
        for (int i = 0; i < _layers.Length; i++)
        {
            if (!_layers[i].IsIdentity)
            {
                int f = _features[i], g = _features[i + 1];
                _layers[i].ForwardRows(current.Span.Slice(r0 * f, rows * f), _acts[i].Span.Slice(r0 * g, rows * g), rows, f, rowsLike: batch);
                current = _acts[i];
                // Hidden outputs are read by other processes only in the backward pass, after the output's gather.
                if (i == _lastComputed) sharing.AllGatherRows(_acts[i].Span[..(batch * g)], batch, g);
                else if (_gathered[i]) sharing.AllGatherRowsBeforeNext(_acts[i].Span[..(batch * g)], batch, g);
            }
            _out[i] = current;
        }
        return current.Span[..(batch * _features[^1])];
    }

    private void Start(Memory<float> x, int batch)
    {
        if (batch < 1 || batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch), $"Batch {batch} is outside [1, {MaxBatch}].");
        if (x.Length < batch * _features[0]) throw new ArgumentException($"Input holds {x.Length} floats; a batch of {batch} needs {batch * _features[0]}.");
        _input = x;
        _batch = batch;
    }

    /// <summary>
    /// Back-propagates <paramref name="dOutput"/> = dℓ/d(output) of the last <see cref="Forward(float[], int)"/>, adding into
    /// every parameter's Grad. Stops at the first layer with parameters: nobody needs dℓ/dx.
    /// </summary>
    public void Backward(ReadOnlySpan<float> dOutput) => Backward(dOutput, overwrite: false, sink: null);

    /// <summary>
    /// <see cref="Backward(ReadOnlySpan{float})"/> with the gradients written instead of added when
    /// <paramref name="overwrite"/> (the same bits as clearing them first), and each parameter's gradient announced to
    /// <paramref name="sink"/> as soon as it is final (the fused optimizer step: the same bits as stepping afterwards).
    /// </summary>
    internal void Backward(ReadOnlySpan<float> dOutput, bool overwrite, IGradientSink? sink)
    {
        int batch = _batch;
        if (batch == 0) throw new InvalidOperationException("Backward before Forward.");
        if (!EachParameterOnce)
        {
            // A shared parameter gathers its gradient over several layers: clear, then add, then step.
            if (sink is not null) throw new InvalidOperationException("A gradient sink needs each parameter in one layer only (its gradient is final when its layer is done).");
            if (overwrite) foreach (var own in _own) foreach (var p in own) p.Grad?.Data.Clear();
            overwrite = false;
        }
        ReadOnlySpan<float> dy = dOutput[..(batch * _features[^1])];
        for (int i = _layers.Length - 1; i >= _firstTrainable; i--)
        {
            if (_layers[i].IsIdentity) continue; // the gradient passes through unchanged
            var x = i == 0 ? _input : _out[i - 1];
            Span<float> dx = i == _firstTrainable ? Span<float>.Empty : _grads[i].Span[..(batch * _features[i])];
            _layers[i].BackwardStep(x.Span, _out[i].Span, dy, dx, batch, _features[i], _own[i], overwrite, sink);
            dy = dx;
        }
    }

    /// <summary>
    /// The backward of this process's share of the last <see cref="ForwardShare"/>'s batch: <paramref name="dOutput"/>
    /// holds dℓ/d(output) for every row; each layer's dℓ/dx is computed for this process's rows, and gathered from the
    /// others where a layer with parameters needs every row; each parameter's gradient is split among the processes
    /// by rows (<see cref="Module.BackwardShare"/>), written and gathered (<see cref="IRowSharing.AllGatherGradient"/>). Every
    /// element has the bits of <see cref="Backward(ReadOnlySpan{float})"/> on the whole batch, for any number of processes.
    /// </summary>
    /// <exception cref="NotSupportedException">A parameter belongs to two layers, or a layer with parameters cannot split its gradient.</exception>
    internal void BackwardShare(float[] dOutput, IRowSharing sharing)
    {
        if (!EachParameterOnce) throw new NotSupportedException("Splitting gradients among processes needs each parameter in one layer only.");
        int batch = _batch;
        if (batch == 0) throw new InvalidOperationException("Backward before Forward.");
        Memory<float> dy = dOutput;
        bool whole = true; // dy holds every row, not only this process's
        for (int i = _layers.Length - 1; i >= _firstTrainable; i--)
        {
            if (_layers[i].IsIdentity) continue;
            int f = _features[i], g = _features[i + 1];
            if (_own[i].Length > 0 && !whole) sharing.AllGatherRows(dy.Span[..(batch * g)], batch, g);
            var x = i == 0 ? _input : _out[i - 1];
            Span<float> dx = i == _firstTrainable ? Span<float>.Empty : _grads[i].Span[..(batch * f)];
            _layers[i].BackwardShare(x.Span[..(batch * f)], _out[i].Span[..(batch * g)], dy.Span[..(batch * g)], dx, batch, f, _own[i], sharing);
            (dy, whole) = (_grads[i], false);
        }
    }
}
