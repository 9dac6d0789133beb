using System.Globalization;
using System.Text;

namespace Nabla.NN;

/// <summary>A table of a model's layers, output shapes and parameter counts, like Keras' <c>model.summary()</c>.</summary>
public static class ModelSummary
{
    /// <summary>One row of the summary.</summary>
    /// <param name="Name">Layer name as in PyTorch (<c>1</c>) and its type.</param>
    /// <param name="OutputShape">E.g. <c>(None, 32)</c>.</param>
    /// <param name="Parameters">Trainable parameters of the layer.</param>
    public sealed record Row(string Name, string OutputShape, long Parameters);

    /// <summary>The rows of <paramref name="plan"/>, one per layer.</summary>
    public static IReadOnlyList<Row> Rows(LayerPlan plan) =>
        [.. plan.Layers.Select((l, i) => new Row($"{i} ({l.TypeName})", $"(None, {l.OutFeatures})", l.ParameterCount))];

    /// <summary>The rows for <paramref name="model"/> on inputs of <paramref name="inputFeatures"/> per sample.</summary>
    /// <exception cref="NotSupportedException">The model is not a Sequential of built-in layers.</exception>
    public static IReadOnlyList<Row> Rows(Sequential model, int inputFeatures) => Rows(LayerPlan.Of(model, inputFeatures));

    /// <summary>The summary of <paramref name="model"/> as a fixed-width text table with totals.</summary>
    public static string Format(Sequential model, int inputFeatures) => Format(LayerPlan.Of(model, inputFeatures));

    /// <summary>A byte count in the unit that reads best: 512 B, 99.4 KiB, 2.6 MiB, 1.2 GiB.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : $"{v.ToString("F1", CultureInfo.InvariantCulture)} {units[u]}";
    }

    /// <summary>The summary of <paramref name="plan"/> as a fixed-width text table with totals.</summary>
    public static string Format(LayerPlan plan)
    {
        var rows = Rows(plan);
        var sb = new StringBuilder();
        string line = new('─', 58);
        sb.AppendLine(line);
        sb.AppendLine($"{"Layer (type)",-26}{"Output Shape",-18}{"Param #",14}");
        sb.AppendLine(new string('═', 58));
        foreach (var r in rows)
            sb.AppendLine($"{r.Name,-26}{r.OutputShape,-18}{r.Parameters.ToString("N0", CultureInfo.InvariantCulture),14}");
        sb.AppendLine(new string('═', 58));
        long total = rows.Sum(r => r.Parameters);
        sb.AppendLine($"Total params: {total.ToString("N0", CultureInfo.InvariantCulture)} ({Bytes(total * 4)} as float32)");
        sb.Append(line);
        return sb.ToString();
    }
}
