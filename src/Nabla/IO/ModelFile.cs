using System.Globalization;
using System.Text.Json;
using Nabla.Data;
using Nabla.NN;
using Nabla.Tensors;

namespace Nabla.IO;

/// <summary>A trained model as stored on disk: its layer plan, its class names and its weights.</summary>
/// <param name="Model">The rebuilt model, weights loaded.</param>
/// <param name="Plan">Its architecture, layer by layer (the file's, or inferred from a PyTorch state dict).</param>
/// <param name="ClassNames">Label names, one per output.</param>
public sealed record LoadedModel(Sequential Model, LayerPlan Plan, IReadOnlyList<string> ClassNames)
{
    /// <summary>The file's metadata (Nabla's keys and any others), e.g. how the inputs were read and scaled.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Features per sample the model takes.</summary>
    public int InputFeatures => Plan.InputFeatures;
}

/// <summary>
/// A PyTorch state dict does not say which activation follows each hidden Linear layer: the caller must.
/// </summary>
/// <param name="path">The file.</param>
/// <param name="hiddenLayers">How many hidden layers need an activation.</param>
public sealed class UnknownActivationException(string path, int hiddenLayers)
    : Exception($"{path} is a plain state dict: it records the Linear layers' weights but not the activation after each of its {hiddenLayers} hidden layer(s) (sigmoid, relu or tanh).")
{
    /// <summary>The file.</summary>
    public string Path { get; } = path;

    /// <summary>Hidden layers whose activation is needed.</summary>
    public int HiddenLayers { get; } = hiddenLayers;
}

/// <summary>
/// Saves and loads models as safetensors with PyTorch's <c>nn.Sequential</c> names (<c>1.weight</c>, <c>1.bias</c>,
/// <c>3.weight</c>, …), float32, plus metadata: the layer plan, the class names and Nabla's version. Any
/// <see cref="Sequential"/> of built-in layers round-trips exactly. A file without Nabla's metadata (a PyTorch
/// state dict) is read by inferring the Linear layers from the names and shapes; its activations, which it does
/// not record, must be given.
/// </summary>
public static class ModelFile
{
    private const string PlanKey = "nabla.layers", LegacyArchitectureKey = "nabla.architecture",
        ClassesKey = "nabla.class_names", VersionKey = "nabla.version", ModuleKey = "nabla.module", NoteKey = "nabla.note";

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="path"/> atomically. A <see cref="Sequential"/> of built-in
    /// layers is written with its layer plan, so that <see cref="Load(string, IReadOnlyList{ActivationKind})"/>
    /// rebuilds it. Any other module (your own layers) is written as its state dict, as PyTorch's
    /// <c>torch.save(model.state_dict())</c>: its code defines the architecture, so the file says so and is read back
    /// into a module you build with <see cref="LoadStateDict"/>.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="model">The model.</param>
    /// <param name="classNames">One name per output.</param>
    /// <param name="inputFeatures">The input width, where the model has no Linear layer to tell it.</param>
    /// <param name="metadata">More metadata to record (keys such as <c>nabla.input</c>: how inputs are read).</param>
    /// <exception cref="ArgumentException">The class names do not match the outputs.</exception>
    public static void Save(string path, Module model, IReadOnlyList<string> classNames, int? inputFeatures = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [ClassesKey] = JsonSerializer.Serialize(classNames),
            [VersionKey] = typeof(ModelFile).Assembly.GetName().Version?.ToString(3) ?? "0",
        };
        if (LayerPlan.TryOf(model, out var plan, out var why, inputFeatures))
        {
            if (classNames.Count != plan!.OutputFeatures)
                throw new ArgumentException($"{classNames.Count} class names for a model with {plan.OutputFeatures} outputs.");
            meta[PlanKey] = plan.ToJson();
        }
        else
        {
            meta[ModuleKey] = model.GetType().FullName ?? model.GetType().Name;
            meta[NoteKey] = $"The state dict of a {model.GetType().Name} ({why?.TrimEnd('.')}): its code defines the architecture. Build the module, then ModelFile.LoadStateDict(path, module).";
        }
        var tensors = model.StateDict().Select(p => (p.Key, p.Value.ToArray(), p.Value.Shape.ToArray().Select(d => (long)d).ToArray())).ToList();
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>()) meta.TryAdd(key, value);
        SafeTensors.Save(path, tensors, meta);
    }

    /// <summary>
    /// Reads a state dict (a file <c>Save</c> wrote for any module, or PyTorch's safetensors) into
    /// <paramref name="module"/>, which you have built: every parameter by name, shapes checked, strict as PyTorch's
    /// <c>load_state_dict</c> is by default. Returns the file's metadata.
    /// </summary>
    /// <exception cref="DataFormatException">The file is malformed, or its tensors do not match the module's parameters.</exception>
    public static IReadOnlyDictionary<string, string> LoadStateDict(string path, Module module)
    {
        var (meta, tensors) = SafeTensors.Read(path);
        LoadInto(path, module, tensors);
        return meta;
    }

    /// <summary>Writes <paramref name="model"/> after checking that it is the model <paramref name="architecture"/> describes.</summary>
    /// <exception cref="ArgumentException">The model is not of that architecture.</exception>
    public static void Save(string path, Sequential model, MlpArchitecture architecture, IReadOnlyList<string> classNames)
    {
        var expected = architecture.ToPlan();
        var actual = LayerPlan.Of(model, architecture.Inputs);
        if (!expected.Layers.Select(l => l with { Seed = 0 }).SequenceEqual(actual.Layers.Select(l => l with { Seed = 0 })))
            throw new ArgumentException($"The model ({actual}) is not of the architecture {architecture}.");
        Save(path, model, classNames, architecture.Inputs);
    }

    /// <summary>Reads a model; for a PyTorch state dict, <paramref name="activation"/> follows every hidden layer.</summary>
    /// <exception cref="DataFormatException">The file is malformed, or contradicts <paramref name="activation"/>.</exception>
    public static LoadedModel Load(string path, ActivationKind activation) => Load(path, [activation]);

    /// <summary>
    /// Reads a model. A Nabla file rebuilds the recorded plan. A PyTorch state dict is read as an
    /// <c>nn.Sequential</c> whose Linear layers sit at the indices of its weights; <paramref name="activations"/>
    /// says which activation follows each hidden layer (one for all, or one per hidden layer).
    /// </summary>
    /// <exception cref="DataFormatException">The file is malformed, its tensors do not fit its plan, or
    /// <paramref name="activations"/> contradicts the activations the file records.</exception>
    /// <exception cref="UnknownActivationException">A state dict with hidden layers and no <paramref name="activations"/>.</exception>
    public static LoadedModel Load(string path, IReadOnlyList<ActivationKind>? activations = null)
    {
        var (meta, tensors) = SafeTensors.Read(path);
        if (meta.TryGetValue(ModuleKey, out var module) && !meta.ContainsKey(PlanKey))
            throw new DataFormatException($"{path}: {(meta.TryGetValue(NoteKey, out var note) ? note : $"the state dict of a {module}, whose code defines its architecture: build it, then ModelFile.LoadStateDict(path, module).")}");
        LayerPlan plan;
        try
        {
            if (meta.TryGetValue(PlanKey, out var json)) plan = LayerPlan.FromJson(json);
            else if (meta.TryGetValue(LegacyArchitectureKey, out var legacy)) plan = MlpArchitecture.FromJson(legacy).ToPlan();
            else plan = StateDictPlan.Infer(path, tensors, activations);
        }
        catch (FormatException e)
        {
            throw new DataFormatException($"{path}: {e.Message}", e);
        }
        if (activations is { Count: > 0 } && (meta.ContainsKey(PlanKey) || meta.ContainsKey(LegacyArchitectureKey)))
            CheckActivations(path, plan, activations);
        var classNames = ReadClassNames(path, meta, plan.OutputFeatures);
        CheckTensors(path, plan, tensors); // before the model is built: a plan that does not match allocates nothing
        foreach (var t in tensors)
            if (!TensorPrimitives.IsFiniteAll<float>(t.Data))
                throw new DataFormatException($"{path}: parameter '{t.Name}' holds NaN or infinite values; the model cannot predict anything.");
        var model = plan.CreateEmpty(new Rng(0)); // zeros, filled from the file below (dropout seeds: a fresh model's)
        LoadInto(path, model, tensors);
        (model, plan) = WithRecordedScaling(path, model, plan, meta);
        model.Eval();
        return new LoadedModel(model, plan, classNames) { Metadata = meta };
    }

    /// <summary>
    /// Files written before table models carried their preprocessing recorded a table's scaling beside the model
    /// (<c>nabla.input</c>: standardization statistics, or division by 255) for the command line to apply. The
    /// loaded model takes it in as its first layer (a <see cref="ColumnTransformer"/> of numeric columns, in the
    /// Flatten's place), so that <c>Predict</c> on raw rows is right for those files too.
    /// </summary>
    private static (Sequential, LayerPlan) WithRecordedScaling(string path, Sequential model, LayerPlan plan, IReadOnlyDictionary<string, string> meta)
    {
        if (!meta.TryGetValue("nabla.input", out var json) || model.Layers[0] is not Flatten) return (model, plan);
        try
        {
            var input = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
            if (input["kind"]?.GetValue<string>() != "table" || input["scaling"] is not { } scaling) return (model, plan);
            var scaler = FeatureScaler.FromJson(scaling, plan.InputFeatures);
            if (scaler.Kind == FeatureScaling.None) return (model, plan);
            var names = input["features"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
            if (names.Length != plan.InputFeatures) throw new FormatException($"{names.Length} feature names for {plan.InputFeatures} inputs");
            var (mean, scale) = scaler.Statistics(plan.InputFeatures);
            var columns = names.Select((n, j) => new TableColumn(n, ColumnKind.Numeric) { Mean = mean[j], Scale = scale[j] }).ToArray();
            var upgraded = new Sequential([new ColumnTransformer(new TablePreprocessor(columns)), .. model.Layers.Skip(1)]);
            return (upgraded, LayerPlan.Of(upgraded));
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or NullReferenceException or ArgumentException or JsonException)
        {
            throw new DataFormatException($"{path}: bad 'nabla.input' scaling ({e.Message}).", e);
        }
    }

    private static void CheckActivations(string path, LayerPlan plan, IReadOnlyList<ActivationKind> asked)
    {
        var recorded = plan.Activations;
        bool same = asked.Count == 1 ? recorded.All(a => a == asked[0]) : asked.SequenceEqual(recorded);
        if (!same)
            throw new DataFormatException(
                $"{path} records its activations ({string.Join(',', recorded).ToLowerInvariant()}); the asked {string.Join(',', asked).ToLowerInvariant()} contradicts them. Leave the activation out for a model file Nabla wrote.");
    }

    private static string[] ReadClassNames(string path, IReadOnlyDictionary<string, string> meta, int outputs)
    {
        if (!meta.TryGetValue(ClassesKey, out var names))
            return [.. Enumerable.Range(0, outputs).Select(i => i.ToString(CultureInfo.InvariantCulture))];
        string[]? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<string[]>(names);
        }
        catch (JsonException)
        {
            parsed = null;
        }
        if (parsed is null || parsed.Any(n => n is null))
            throw new DataFormatException($"{path}: the class names ('{ClassesKey}') are not a JSON array of strings.");
        if (parsed.Length != outputs)
            throw new DataFormatException($"{path}: {parsed.Length} class names for {outputs} outputs.");
        return parsed;
    }

    /// <summary>Checks names, dtypes and shapes of the file's tensors against the plan's parameters.</summary>
    private static void CheckTensors(string path, LayerPlan plan, IReadOnlyList<SafeTensorsEntry> tensors)
    {
        var byName = new Dictionary<string, SafeTensorsEntry>();
        foreach (var t in tensors)
            if (!byName.TryAdd(t.Name, t)) throw new DataFormatException($"{path}: tensor '{t.Name}' appears twice.");
        var expected = plan.ParameterShapes().ToList();
        foreach (var (name, shape) in expected)
        {
            if (!byName.TryGetValue(name, out var t))
                throw new DataFormatException($"{path}: parameter '{name}' ({string.Join(", ", shape)}) of its layer plan is missing (the file has {string.Join(", ", byName.Keys)}).");
            CheckEntry(path, name, t, shape);
        }
        var extra = byName.Keys.Except(expected.Select(e => e.Name)).ToList();
        if (extra.Count > 0) throw new DataFormatException($"{path}: tensors {string.Join(", ", extra)} belong to no parameter of the model.");
    }

    private static void CheckEntry(string path, string name, SafeTensorsEntry t, IReadOnlyList<int> shape)
    {
        if (t.DType != "F32") throw new DataFormatException($"{path}: parameter '{name}' is {t.DType}; only F32 is supported.");
        if (t.Shape.Length != shape.Count || !t.Shape.Select(d => (long)d).SequenceEqual(shape.Select(d => (long)d)))
            throw new DataFormatException($"{path}: parameter '{name}' has shape ({string.Join(", ", t.Shape)}) in the file but ({string.Join(", ", shape)}) in the model.");
    }

    /// <summary>Copies the tensors into the model's parameters, checking that names and shapes match exactly.</summary>
    /// <exception cref="DataFormatException">A parameter is missing, extra, of another dtype or of another shape.</exception>
    public static void LoadInto(string path, Module model, IReadOnlyList<SafeTensorsEntry> tensors)
    {
        var byName = new Dictionary<string, SafeTensorsEntry>();
        foreach (var t in tensors)
            if (!byName.TryAdd(t.Name, t)) throw new DataFormatException($"{path}: tensor '{t.Name}' appears twice.");
        var expected = model.NamedParameters();
        foreach (var (name, p) in expected)
        {
            if (!byName.TryGetValue(name, out var t))
                throw new DataFormatException($"{path}: parameter '{name}' {p.Shape} is missing (the file has {string.Join(", ", byName.Keys)}).");
            CheckEntry(path, name, t, p.Shape.ToArray());
        }
        var extra = byName.Keys.Except(expected.Select(e => e.Name)).ToList();
        if (extra.Count > 0) throw new DataFormatException($"{path}: tensors {string.Join(", ", extra)} belong to no parameter of the model.");
        foreach (var (name, p) in expected) byName[name].Data.CopyTo(p.Data);
    }
}
