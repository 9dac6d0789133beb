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
    private readonly float[][] _acts;     // _acts[i] = output buffer of layer i, (maxBatch, _features[i+1])
    private readonly float[][] _grads;    // _grads[i] = dℓ/d(input of layer i), (maxBatch, _features[i])
    private readonly float[][] _out;      // _out[i] = what layer i's output is this step (its buffer, or its input for identities)
    private readonly int _firstTrainable; // layers before it need no gradient at all
    private readonly Tensor[][] _own;     // _own[i] = layer i's own parameters
    private readonly LeafTree _tree = new();
    private float[] _input = [];
    private int _batch;

    /// <summary>Sizes the buffers for <paramref name="model"/> on inputs of <paramref name="inputFeatures"/> per sample.</summary>
    /// <exception cref="NotSupportedException">A layer has no explicit form.</exception>
    public BatchEngine(Sequential model, int inputFeatures, int maxBatch)
    {
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), "The batch size must be at least 1.");
        Model = model;
        MaxBatch = maxBatch;
        _layers = [.. model.Layers];
        int n = _layers.Length;
        _features = new int[n + 1];
        _features[0] = inputFeatures;
        _acts = new float[n][];
        _grads = new float[n][];
        _out = new float[n][];
        _own = new Tensor[n][];
        _firstTrainable = n;
        for (int i = 0; i < n; i++)
        {
            _features[i + 1] = _layers[i].OutputFeatures(_features[i]);
            _layers[i].Prepare(maxBatch, _features[i]);
            _acts[i] = _layers[i].IsIdentity ? [] : new float[maxBatch * _features[i + 1]];
            _grads[i] = new float[maxBatch * _features[i]];
            _own[i] = [.. _layers[i].NamedParameters().Select(np => np.Parameter)];
            if (_firstTrainable == n && _own[i].Length > 0) _firstTrainable = i;
        }
        foreach (var p in model.Parameters()) p.Grad ??= new Tensor(p.Shape);
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
    public ReadOnlySpan<float> Forward(float[] x, int batch) => Forward(x, batch, rowsLike: 0);

    /// <summary>
    /// <see cref="Forward(float[], int)"/> with every row given the bits it would have in a batch of
    /// <paramref name="rowsLike"/> rows (0: of this batch): a block of micro-shards computed at once.
    /// </summary>
    internal ReadOnlySpan<float> Forward(float[] x, int batch, int rowsLike)
    {
        if (batch < 1 || batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch), $"Batch {batch} is outside [1, {MaxBatch}].");
        if (x.Length < batch * _features[0]) throw new ArgumentException($"Input holds {x.Length} floats; a batch of {batch} needs {batch * _features[0]}.");
        _input = x;
        _batch = batch;
        float[] current = x;
        for (int i = 0; i < _layers.Length; i++)
        {
            if (!_layers[i].IsIdentity)
            {
                _layers[i].ForwardRows(current, _acts[i].AsSpan(0, batch * _features[i + 1]), batch, _features[i], rowsLike);
                current = _acts[i];
            }
            _out[i] = current; // an identity layer (Flatten) passes its input buffer on, uncopied
        }
        return current.AsSpan(0, batch * _features[^1]);
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
            Span<float> dx = i == _firstTrainable ? Span<float>.Empty : _grads[i].AsSpan(0, batch * _features[i]);
            _layers[i].BackwardStep(x, _out[i], dy, dx, batch, _features[i], _own[i], overwrite, sink);
            dy = dx;
        }
    }

    /// <summary>
    /// Back-propagates a block of micro-shards ("leaves": rows [starts[j], starts[j+1]) of the last
    /// <see cref="Forward(float[], int, int)"/>, starts[0] = 0): each parameter's gradient is written as the sum of
    /// the leaves' gradients in one fixed balanced binary tree (<see cref="LeafTree"/>) — the same bits however the
    /// leaves of a batch are divided among processes — and announced to <paramref name="sink"/> once final.
    /// </summary>
    /// <exception cref="NotSupportedException">A parameter belongs to two layers, or a layer with parameters has no leaf form.</exception>
    internal void BackwardLeaves(ReadOnlySpan<float> dOutput, ReadOnlySpan<int> starts, IGradientSink? sink)
    {
        if (!EachParameterOnce) throw new NotSupportedException("Summing gradients by micro-shards needs each parameter in one layer only.");
        if (starts.Length < 2 || starts[0] != 0 || starts[^1] != _batch) throw new ArgumentException($"The leaves must cover the {_batch} rows of the last forward, from 0.");
        int batch = _batch;
        ReadOnlySpan<float> dy = dOutput[..(batch * _features[^1])];
        for (int i = _layers.Length - 1; i >= _firstTrainable; i--)
        {
            if (_layers[i].IsIdentity) continue;
            var x = i == 0 ? _input : _out[i - 1];
            Span<float> dx = i == _firstTrainable ? Span<float>.Empty : _grads[i].AsSpan(0, batch * _features[i]);
            _layers[i].BackwardLeaves(x, _out[i], dy, dx, _features[i], _own[i], starts, _tree, sink);
            dy = dx;
        }
    }
}
