using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// The architecture of a model of built-in layers, in order: each layer's kind, widths, activation and dropout
/// probability. It is derived from a <see cref="Sequential"/> once (<see cref="Of"/>) and is the one description
/// the CPU and CUDA engines, the ONNX exporter, <c>summary</c> and the model file read; a saved file records it,
/// so any <see cref="Sequential"/> of built-in layers loads back as it was (<see cref="Create"/>).
/// </summary>
public sealed class LayerPlan
{
    /// <summary>Widest layer accepted (features per sample), so that a hostile file cannot ask for absurd buffers.</summary>
    public const int MaxFeatures = 1 << 24;

    /// <summary>Most parameters a model may have (float32 tensors are indexed by int).</summary>
    public const long MaxParameters = int.MaxValue;

    /// <summary>Most layers a plan may have.</summary>
    public const int MaxLayers = 4_096;

    private readonly LayerSpec[] _layers;

    /// <summary>A plan of <paramref name="layers"/> on inputs of <paramref name="inputFeatures"/> per sample.</summary>
    /// <exception cref="ArgumentException">The layers do not chain (a layer's input is not the previous output), a
    /// width is out of range, a dropout probability is outside [0, 1), or the model is too large.</exception>
    public LayerPlan(int inputFeatures, IEnumerable<LayerSpec> layers)
    {
        _layers = [.. layers];
        if (_layers.Length > MaxLayers) throw new ArgumentException($"{_layers.Length} layers; at most {MaxLayers} are supported.");
        CheckWidth(inputFeatures, "the input");
        InputFeatures = inputFeatures;
        int features = inputFeatures;
        long parameters = 0;
        for (int i = 0; i < _layers.Length; i++)
        {
            var l = _layers[i];
            if (l.InFeatures != features)
                throw new ArgumentException($"layer {i} ({l.TypeName}) takes {l.InFeatures} features per sample but receives {features}.");
            CheckWidth(l.OutFeatures, $"layer {i} ({l.TypeName})");
            if (l.Kind is not (LayerKind.Linear or LayerKind.ColumnTransformer) && l.OutFeatures != l.InFeatures)
                throw new ArgumentException($"layer {i} ({l.TypeName}) cannot change the width ({l.InFeatures} → {l.OutFeatures}).");
            if (l.Kind == LayerKind.Dropout && l.P is { } p && !(p >= 0 && p < 1))
                throw new ArgumentException($"layer {i}: dropout probability {l.P} is outside [0, 1).");
            if (l.Kind == LayerKind.Activation && (l.Activation is not { } act || !Enum.IsDefined(act)))
                throw new ArgumentException($"layer {i}: an activation layer needs a known activation; got {l.Activation?.ToString() ?? "none"}.");
            if (l.Kind != LayerKind.Activation && l.Activation is not null)
                throw new ArgumentException($"layer {i} ({l.Kind}) is not an activation but names one ({l.Activation}).");
            if (l.Kind == LayerKind.ColumnTransformer && (i != 0 || l.Preprocessor is null))
                throw new ArgumentException($"layer {i}: a ColumnTransformer takes the raw table, so it must be the first layer.");
            if (l.Kind == LayerKind.Rescaling && (l.Scale?.Length != l.InFeatures || l.Offset?.Length != l.InFeatures))
                throw new ArgumentException($"layer {i}: Rescaling needs a scale and an offset per feature.");
            parameters += l.ParameterCount;
            if (parameters > MaxParameters) throw new ArgumentException($"the model has over {MaxParameters:N0} parameters.");
            features = l.OutFeatures;
        }
        OutputFeatures = features;
        ParameterCount = parameters;
    }

    private static void CheckWidth(int width, string what)
    {
        if (width < 1 || width > MaxFeatures)
            throw new ArgumentException($"{what} has {width} features per sample; widths must be in [1, {MaxFeatures:N0}].");
    }

    /// <summary>Features per sample of the model's input.</summary>
    public int InputFeatures { get; }

    /// <summary>Features per sample of the model's output (classes, for a classifier).</summary>
    public int OutputFeatures { get; }

    /// <summary>Trainable parameters, all layers together.</summary>
    public long ParameterCount { get; }

    /// <summary>The layers, in order; a layer's index is its <see cref="Sequential"/> index and its parameters' name prefix.</summary>
    public IReadOnlyList<LayerSpec> Layers => _layers;

    /// <summary>The activations in the order they appear (one per hidden layer for an MLP).</summary>
    public IReadOnlyList<ActivationKind> Activations => [.. _layers.Where(l => l.Kind == LayerKind.Activation).Select(l => l.Activation!.Value)];

    /// <summary>
    /// The plan of <paramref name="model"/>: a <see cref="Sequential"/> of Flatten, Linear, Sigmoid, ReLU, Tanh,
    /// Dropout and Softmax layers. The input width is the first Linear layer's unless <paramref name="inputFeatures"/> says.
    /// </summary>
    /// <exception cref="NotSupportedException">The model is not a Sequential of built-in layers; the message names the layer.</exception>
    /// <exception cref="ArgumentException">The layers do not chain.</exception>
    public static LayerPlan Of(Module model, int? inputFeatures = null) =>
        TryOf(model, out var plan, out var why, inputFeatures) ? plan! : throw new NotSupportedException(why);

    /// <summary>As <see cref="Of"/>, returning false with the reason instead of throwing when the model has no plan.</summary>
    public static bool TryOf(Module model, out LayerPlan? plan, out string? reason, int? inputFeatures = null)
    {
        plan = null;
        if (model is not Sequential seq)
        {
            reason = $"{model.GetType().Name} is not a Sequential of built-in layers (Flatten, Linear, Sigmoid, ReLU, Tanh, Dropout, Softmax).";
            return false;
        }
        // The input width: given, or fixed by the first layer that fixes one (the layers before it keep the width).
        int? width = inputFeatures ?? seq.Layers.Select(l => l.FixedInputFeatures).FirstOrDefault(w => w is not null);
        if (width is not int features)
        {
            reason = "The model has no Linear layer to take its input width from; give the input width.";
            return false;
        }
        var specs = new List<LayerSpec>(seq.Layers.Count);
        for (int i = 0; i < seq.Layers.Count; i++)
        {
            var spec = seq.Layers[i].Spec(features); // each layer describes itself; null: not a built-in layer
            if (spec is null)
            {
                reason = $"layer {i} ({seq.Layers[i].GetType().Name}) is not a built-in layer (Flatten, Linear, Sigmoid, ReLU, Tanh, Dropout, Softmax, ColumnTransformer, Rescaling).";
                return false;
            }
            specs.Add(spec);
            features = spec.OutFeatures;
        }
        plan = new LayerPlan(width.Value, specs);
        reason = null;
        return true;
    }

    /// <summary>A new model of this plan, Linear weights drawn from <paramref name="rng"/> as PyTorch initializes them.</summary>
    /// <param name="rng">Draws the weights, layer by layer.</param>
    /// <param name="dropoutRng">Seeds the dropout masks (default: <paramref name="rng"/>).</param>
    public Sequential Create(Rng rng, Rng? dropoutRng = null) => Build(rng, dropoutRng ?? rng);

    /// <summary>
    /// A model of this plan whose weights are zeros, for a loader to fill (<see cref="IO.ModelFile"/>): nothing is drawn
    /// only to be overwritten. Dropout layers take their mask seeds from <paramref name="dropoutRng"/>.
    /// </summary>
    internal Sequential CreateEmpty(Rng dropoutRng) => Build(null, dropoutRng);

    private Sequential Build(Rng? rng, Rng dropoutRng)
    {
        if (_layers.Length == 0) throw new InvalidOperationException("A plan without layers makes no model.");
        return new Sequential([.. _layers.Select(l => (Module)(l.Kind switch
        {
            LayerKind.Flatten => new Flatten(),
            LayerKind.Linear => rng is null ? Linear.Empty(l.InFeatures, l.OutFeatures, l.Bias) : new Linear(l.InFeatures, l.OutFeatures, rng, l.Bias),
            LayerKind.Activation => Activation.Create(l.Activation!.Value),
            LayerKind.Dropout => l.P is { } p ? new Dropout(p, dropoutRng) : Dropout.Unrecorded(dropoutRng),
            LayerKind.Softmax => new Softmax(),
            LayerKind.ColumnTransformer => new ColumnTransformer(l.Preprocessor!),
            LayerKind.Rescaling => new Rescaling(l.Scale!, l.Offset!),
            _ => throw new InvalidOperationException($"layer kind {l.Kind} has no module"),
        }))]);
    }

    /// <summary>Every parameter's PyTorch name and shape, in <see cref="Module.NamedParameters"/> order.</summary>
    public IEnumerable<(string Name, int[] Shape)> ParameterShapes()
    {
        for (int i = 0; i < _layers.Length; i++)
        {
            if (_layers[i].Kind != LayerKind.Linear) continue;
            yield return ($"{i}.weight", [_layers[i].OutFeatures, _layers[i].InFeatures]);
            if (_layers[i].Bias) yield return ($"{i}.bias", [_layers[i].OutFeatures]);
        }
    }

    /// <summary>The plan as JSON (what model files and checkpoints record): layer kinds by name, never by number.</summary>
    public string ToJson()
    {
        var layers = new JsonArray();
        foreach (var l in _layers)
        {
            var o = new JsonObject { ["kind"] = KindName(l) };
            if (l.Kind == LayerKind.Linear) { o["in"] = l.InFeatures; o["out"] = l.OutFeatures; o["bias"] = l.Bias; }
            if (l.Kind == LayerKind.Dropout) o["p"] = l.P; // null: not recorded where it came from
            if (l.Kind == LayerKind.ColumnTransformer) o["columns"] = l.Preprocessor!.ToJson()["columns"]!.DeepClone();
            if (l.Kind == LayerKind.Rescaling)
            {
                o["scale"] = new JsonArray([.. l.Scale!.Select(v => (JsonNode)JsonValue.Create(v))]);
                o["offset"] = new JsonArray([.. l.Offset!.Select(v => (JsonNode)JsonValue.Create(v))]);
            }
            layers.Add(o);
        }
        return new JsonObject { ["inputs"] = InputFeatures, ["layers"] = layers }.ToJsonString();
    }

    private static string KindName(LayerSpec l) => l.Kind switch
    {
        LayerKind.Activation => l.Activation!.Value.ToString().ToLowerInvariant(),
        LayerKind.ColumnTransformer => "column_transformer",
        _ => l.Kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses <see cref="ToJson"/>'s output, checking every field before anything is built.</summary>
    /// <exception cref="FormatException">Malformed, an unknown layer kind, or widths that do not chain.</exception>
    public static LayerPlan FromJson(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            int inputs = root.GetProperty("inputs").GetInt32();
            int features = inputs;
            var specs = new List<LayerSpec>();
            foreach (var e in root.GetProperty("layers").EnumerateArray())
            {
                if (specs.Count >= MaxLayers) throw new FormatException($"more than {MaxLayers} layers");
                string kind = e.GetProperty("kind").GetString() ?? "";
                LayerSpec spec = kind switch
                {
                    "flatten" => LayerSpec.FlattenLayer(features),
                    "linear" => LayerSpec.LinearLayer(e.GetProperty("in").GetInt32(), e.GetProperty("out").GetInt32(), e.GetProperty("bias").GetBoolean()),
                    "sigmoid" => LayerSpec.ActivationLayer(ActivationKind.Sigmoid, features),
                    "relu" => LayerSpec.ActivationLayer(ActivationKind.Relu, features),
                    "tanh" => LayerSpec.ActivationLayer(ActivationKind.Tanh, features),
                    "dropout" => LayerSpec.DropoutLayer(e.GetProperty("p").ValueKind == JsonValueKind.Null ? null : e.GetProperty("p").GetSingle(), features),
                    "softmax" => LayerSpec.SoftmaxLayer(features),
                    "column_transformer" => LayerSpec.ColumnTransformerLayer(Data.TablePreprocessor.FromJson(JsonNode.Parse(e.GetRawText()))),
                    "rescaling" => LayerSpec.RescalingLayer(Floats(e.GetProperty("scale")), Floats(e.GetProperty("offset"))),
                    _ => throw new FormatException($"unknown layer kind '{kind}'"),
                };
                specs.Add(spec);
                features = spec.OutFeatures;
            }
            return new LayerPlan(inputs, specs);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new FormatException($"bad layer plan: {e.Message}", e);
        }
    }

    private static float[] Floats(JsonElement e)
    {
        if (e.GetArrayLength() > MaxFeatures) throw new FormatException("too many values");
        return [.. e.EnumerateArray().Select(v => v.GetSingle())];
    }

    /// <summary>
    /// E.g. <c>784-32-10 sigmoid</c> (the widths of the Linear layers, then the activations: one name when all
    /// agree, else one per layer), with <c>, dropout 0.2</c> when there is dropout.
    /// </summary>
    public override string ToString()
    {
        bool table = _layers.Length > 0 && _layers[0].Kind == LayerKind.ColumnTransformer;
        var widths = new List<int> { table ? _layers[0].OutFeatures : InputFeatures };
        widths.AddRange(_layers.Where(l => l.Kind == LayerKind.Linear).Select(l => l.OutFeatures));
        var acts = Activations.Select(a => a.ToString().ToLowerInvariant()).ToList();
        string text = string.Join('-', widths.Select(w => w.ToString(CultureInfo.InvariantCulture)));
        if (acts.Count > 0) text += " " + (acts.Distinct().Count() == 1 ? acts[0] : string.Join(',', acts));
        var ps = _layers.Where(l => l.Kind == LayerKind.Dropout).Select(l => l.P?.ToString(CultureInfo.InvariantCulture) ?? "not recorded").Distinct().ToList();
        if (ps.Count > 0) text += ", dropout " + string.Join(',', ps);
        if (_layers.Length > 0 && _layers[^1].Kind == LayerKind.Softmax) text += ", softmax";
        if (table) text = $"{InputFeatures} columns → {text}";
        if (_layers.Length > 0 && _layers[^1].Kind == LayerKind.Rescaling) text += ", rescaled";
        return text;
    }
}
