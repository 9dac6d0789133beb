using System.Globalization;
using System.Text.Json;
using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// The shape of a multilayer perceptron in PyTorch's layout — a builder of its <see cref="LayerPlan"/>, which is the one
/// description every consumer reads (and what a model file records).
/// </summary>
/// <param name="Inputs">Features per sample (784).</param>
/// <param name="Hidden">Hidden widths.</param>
/// <param name="Activation">Hidden activation.</param>
/// <param name="Classes">Outputs.</param>
/// <param name="Dropout">Dropout after each hidden activation (0: none); it adds a layer, shifting PyTorch's indices.</param>
public sealed record MlpArchitecture(int Inputs, int[] Hidden, ActivationKind Activation, int Classes, float Dropout = 0f)
{
    /// <summary>A new model of this shape (its plan's), weights drawn from <paramref name="rng"/>.</summary>
    public Sequential Create(Rng rng, Rng? dropoutRng = null) => ToPlan().Create(rng, dropoutRng);

    /// <summary>The layer plan of <see cref="Create"/>'s model: <c>Flatten, (Linear, activation, Dropout?)*, Linear</c>.</summary>
    public LayerPlan ToPlan()
    {
        var specs = new List<LayerSpec> { LayerSpec.FlattenLayer(Inputs) };
        int n = Inputs;
        foreach (int h in Hidden)
        {
            specs.Add(LayerSpec.LinearLayer(n, h));
            specs.Add(LayerSpec.ActivationLayer(Activation, h));
            if (Dropout > 0) specs.Add(LayerSpec.DropoutLayer(Dropout, h));
            n = h;
        }
        specs.Add(LayerSpec.LinearLayer(n, Classes));
        return new LayerPlan(Inputs, specs);
    }

    /// <summary>As JSON, the metadata of files written before layer plans (still read).</summary>
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["inputs"] = Inputs, ["hidden"] = Hidden, ["activation"] = Activation.ToString().ToLowerInvariant(),
        ["classes"] = Classes, ["dropout"] = Dropout,
    });

    /// <summary>Parses <see cref="ToJson"/>'s output.</summary>
    /// <exception cref="FormatException">Malformed.</exception>
    public static MlpArchitecture FromJson(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            var arch = new MlpArchitecture(
                r.GetProperty("inputs").GetInt32(),
                [.. r.GetProperty("hidden").EnumerateArray().Select(e => e.GetInt32())],
                r.GetProperty("activation").GetString() switch
                {
                    "sigmoid" => ActivationKind.Sigmoid,
                    "relu" => ActivationKind.Relu,
                    "tanh" => ActivationKind.Tanh,
                    var other => throw new FormatException($"unknown activation '{other}'"),
                },
                r.GetProperty("classes").GetInt32(),
                r.TryGetProperty("dropout", out var d) ? d.GetSingle() : 0f);
            if (arch.Inputs < 1 || arch.Classes < 1 || arch.Hidden.Any(h => h < 1) || !(arch.Dropout >= 0 && arch.Dropout < 1)
                || arch.Inputs > LayerPlan.MaxFeatures || arch.Classes > LayerPlan.MaxFeatures || arch.Hidden.Any(h => h > LayerPlan.MaxFeatures))
                throw new FormatException("dimensions out of range");
            return arch;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new FormatException($"Bad architecture '{json}': {e.Message}", e);
        }
    }

    /// <summary>E.g. <c>784-32-10 sigmoid</c>.</summary>
    public override string ToString() =>
        string.Join('-', new[] { Inputs }.Concat(Hidden).Append(Classes).Select(v => v.ToString(CultureInfo.InvariantCulture))) + " " + Activation.ToString().ToLowerInvariant();
}
