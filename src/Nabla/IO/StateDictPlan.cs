using System.Globalization;
using Nabla.NN;

namespace Nabla.IO;

/// <summary>
/// Reads the architecture of a PyTorch <c>nn.Sequential</c> state dict (<c>{index}.weight</c>, <c>{index}.bias</c>).
/// Only the Linear layers hold tensors; the layers between them leave gaps in the indices. A gap of one is the
/// activation; a gap of two is the activation and a Dropout (identity at inference, so their order does not
/// matter and its probability, which the file does not record, neither); no gap is two Linear layers in a row.
/// A first Linear at index 1 follows a Flatten. Which activation fills each gap is not in the file: it is
/// given, or the file is refused; it is never guessed.
/// </summary>
internal static class StateDictPlan
{
    /// <exception cref="FormatException">The tensors are not an nn.Sequential of Linear layers.</exception>
    /// <exception cref="UnknownActivationException">An activation is needed and none was given.</exception>
    public static LayerPlan Infer(string path, IReadOnlyList<SafeTensorsEntry> tensors, IReadOnlyList<ActivationKind>? activations)
    {
        var linears = Linears(tensors);
        int gaps = 0;
        for (int j = 1; j < linears.Count; j++)
        {
            int gap = linears[j].Index - linears[j - 1].Index - 1;
            if (gap > 2)
                throw new FormatException(
                    $"layers {linears[j - 1].Index + 1}–{linears[j].Index - 1} between Linear layers {linears[j - 1].Index} and {linears[j].Index} hold no weights; at most two (an activation and a Dropout) can be inferred from a state dict.");
            if (gap > 0) gaps++;
        }
        if (linears[0].Index > 1)
            throw new FormatException($"layers 0–{linears[0].Index - 1} before the first Linear layer hold no weights and cannot be inferred (at most a Flatten at 0).");
        var acts = Activations(path, activations, gaps);

        var specs = new List<LayerSpec>();
        int inputs = (int)linears[0].In;
        if (linears[0].Index == 1) specs.Add(LayerSpec.FlattenLayer(inputs));
        int hidden = 0;
        for (int j = 0; j < linears.Count; j++)
        {
            var l = linears[j];
            specs.Add(LayerSpec.LinearLayer((int)l.In, (int)l.Out, l.Bias));
            if (j == linears.Count - 1) break;
            int gap = linears[j + 1].Index - l.Index - 1;
            if (gap >= 1) specs.Add(LayerSpec.ActivationLayer(acts[hidden++], (int)l.Out));
            if (gap == 2) specs.Add(LayerSpec.DropoutLayer(null, (int)l.Out)); // p is not in the file: unknown (identity at inference)
        }
        try
        {
            return new LayerPlan(inputs, specs);
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    private static ActivationKind[] Activations(string path, IReadOnlyList<ActivationKind>? given, int gaps)
    {
        if (gaps == 0) return [];
        if (given is null || given.Count == 0) throw new UnknownActivationException(path, gaps);
        if (given.Count == 1) return [.. Enumerable.Repeat(given[0], gaps)];
        if (given.Count != gaps)
            throw new FormatException($"{given.Count} activations given for its {gaps} hidden layers; give one for all, or one per hidden layer.");
        return [.. given];
    }

    private sealed record LinearEntry(int Index, long In, long Out, bool Bias);

    private static List<LinearEntry> Linears(IReadOnlyList<SafeTensorsEntry> tensors)
    {
        var weights = new SortedDictionary<int, SafeTensorsEntry>();
        var biases = new Dictionary<int, SafeTensorsEntry>();
        foreach (var t in tensors)
        {
            int dot = t.Name.IndexOf('.', StringComparison.Ordinal);
            string suffix = dot < 0 ? "" : t.Name[(dot + 1)..];
            if (dot < 1 || !int.TryParse(t.Name.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out int index)
                || (suffix != "weight" && suffix != "bias"))
                throw new FormatException(
                    $"no Nabla metadata, and tensor '{t.Name}' is not an nn.Sequential Linear parameter ('1.weight', '3.bias', …): cannot tell the model's layers.");
            var into = suffix == "weight" ? weights : (IDictionary<int, SafeTensorsEntry>)biases;
            if (!into.TryAdd(index, t)) throw new FormatException($"tensor '{t.Name}' appears twice.");
        }
        if (weights.Count == 0) throw new FormatException("no Nabla metadata and no Linear weights ('1.weight', …) to infer the model from.");
        var list = new List<LinearEntry>();
        foreach (var (index, w) in weights)
        {
            if (w.Shape.Length != 2) throw new FormatException($"'{index}.weight' has {w.Shape.Length} dimensions; a Linear weight has 2.");
            if (w.Shape.Any(d => d < 1 || d > LayerPlan.MaxFeatures))
                throw new FormatException($"'{index}.weight' has shape ({string.Join(", ", w.Shape)}); widths must be in [1, {LayerPlan.MaxFeatures:N0}].");
            bool bias = biases.Remove(index, out var b);
            if (bias && (b!.Shape.Length != 1 || b.Shape[0] != w.Shape[0]))
                throw new FormatException($"'{index}.bias' has shape ({string.Join(", ", b.Shape)}); its weight needs ({w.Shape[0]}).");
            if (list.Count > 0 && w.Shape[1] != list[^1].Out)
                throw new FormatException($"'{index}.weight' takes {w.Shape[1]} inputs but the layer before gives {list[^1].Out}.");
            list.Add(new LinearEntry(index, w.Shape[1], w.Shape[0], bias));
        }
        if (biases.Count > 0) throw new FormatException($"'{biases.Keys.First()}.bias' has no weight.");
        return list;
    }
}
