using System.Text.Json;
using Nabla.Data;
using Nabla.NN;
using Nabla.Tensors;

namespace Nabla.IO;

/// <summary>A trained model as stored on disk: its architecture, its class names and its weights.</summary>
/// <param name="Model">The rebuilt model, weights loaded.</param>
/// <param name="Architecture">Its shape.</param>
/// <param name="ClassNames">Label names.</param>
public sealed record LoadedModel(Sequential Model, MlpArchitecture Architecture, IReadOnlyList<string> ClassNames);

/// <summary>
/// Saves and loads MLPs as safetensors with PyTorch's <c>nn.Sequential</c> names (<c>1.weight</c>, <c>1.bias</c>,
/// <c>3.weight</c>, …), float32, plus metadata: the architecture, the class names and Nabla's version.
/// A file without Nabla's metadata (written by PyTorch) is read by inferring the layers from the names and shapes.
/// </summary>
public static class ModelFile
{
    private const string ArchitectureKey = "nabla.architecture", ClassesKey = "nabla.class_names", VersionKey = "nabla.version";

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, Sequential model, MlpArchitecture architecture, IReadOnlyList<string> classNames)
    {
        var tensors = model.NamedParameters().Select(p => (p.Name, p.Parameter.ToArray(), p.Parameter.Shape.ToArray().Select(d => (long)d).ToArray())).ToList();
        var meta = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [ArchitectureKey] = architecture.ToJson(),
            [ClassesKey] = JsonSerializer.Serialize(classNames),
            [VersionKey] = typeof(ModelFile).Assembly.GetName().Version?.ToString(3) ?? "0",
        };
        SafeTensors.Save(path, tensors, meta);
    }

    /// <summary>
    /// Reads a model. Without Nabla's metadata, the layers are inferred from the tensor names and shapes and the
    /// hidden activation is <paramref name="activationIfUnknown"/>.
    /// </summary>
    /// <exception cref="DataFormatException">The file is malformed or its tensors do not fit the architecture.</exception>
    public static LoadedModel Load(string path, ActivationKind activationIfUnknown = ActivationKind.Sigmoid)
    {
        var (meta, tensors) = SafeTensors.Read(path);
        MlpArchitecture arch;
        try
        {
            arch = meta.TryGetValue(ArchitectureKey, out var json) ? MlpArchitecture.FromJson(json) : Infer(path, tensors, activationIfUnknown);
        }
        catch (FormatException e)
        {
            throw new DataFormatException($"{path}: {e.Message}", e);
        }
        var classNames = meta.TryGetValue(ClassesKey, out var names)
            ? JsonSerializer.Deserialize<string[]>(names) ?? []
            : Enumerable.Range(0, arch.Classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (classNames.Length != arch.Classes)
            throw new DataFormatException($"{path}: {classNames.Length} class names for {arch.Classes} outputs.");
        var model = arch.Create(new Rng(0));
        LoadInto(path, model, tensors);
        return new LoadedModel(model, arch, classNames);
    }

    /// <summary>Copies the tensors into the model's parameters, checking that names and shapes match exactly.</summary>
    /// <exception cref="DataFormatException">A parameter is missing, extra, of another dtype or of another shape.</exception>
    public static void LoadInto(string path, Module model, IReadOnlyList<SafeTensorsEntry> tensors)
    {
        var byName = tensors.ToDictionary(t => t.Name);
        var expected = model.NamedParameters();
        foreach (var (name, p) in expected)
        {
            if (!byName.TryGetValue(name, out var t))
                throw new DataFormatException($"{path}: parameter '{name}' {p.Shape} is missing (the file has {string.Join(", ", byName.Keys)}).");
            if (t.DType != "F32") throw new DataFormatException($"{path}: parameter '{name}' is {t.DType}; only F32 is supported.");
            var shape = new Shape([.. t.Shape.Select(d => (int)Math.Min(d, int.MaxValue))]);
            if (t.Shape.Length != p.Rank || shape != p.Shape)
                throw new DataFormatException($"{path}: parameter '{name}' has shape ({string.Join(", ", t.Shape)}) in the file but {p.Shape} in the model.");
        }
        var extra = byName.Keys.Except(expected.Select(e => e.Name)).ToList();
        if (extra.Count > 0) throw new DataFormatException($"{path}: tensors {string.Join(", ", extra)} belong to no parameter of the model.");
        foreach (var (name, p) in expected) byName[name].Data.CopyTo(p.Data);
    }

    /// <summary>Rebuilds the layer widths from <c>{i}.weight</c> shapes: Flatten at 0, Linear at odd indices.</summary>
    private static MlpArchitecture Infer(string path, IReadOnlyList<SafeTensorsEntry> tensors, ActivationKind activation)
    {
        var weights = tensors.Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal))
            .Select(t => (Index: int.TryParse(t.Name[..^7], out int i) ? i : -1, t.Shape))
            .OrderBy(w => w.Index).ToList();
        if (weights.Count == 0 || weights.Any(w => w.Index < 0 || w.Shape.Length != 2))
            throw new DataFormatException($"{path}: no Nabla metadata and no nn.Sequential Linear weights ('1.weight', '3.weight', …) to infer the model from.");
        for (int i = 1; i < weights.Count; i++)
            if (weights[i].Shape[1] != weights[i - 1].Shape[0])
                throw new DataFormatException($"{path}: '{weights[i].Index}.weight' takes {weights[i].Shape[1]} inputs but the layer before gives {weights[i - 1].Shape[0]}.");
        return new MlpArchitecture((int)weights[0].Shape[1], [.. weights.SkipLast(1).Select(w => (int)w.Shape[0])], activation, (int)weights[^1].Shape[0]);
    }
}
