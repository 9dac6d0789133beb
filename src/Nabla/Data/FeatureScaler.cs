using System.Globalization;
using System.Text.Json.Nodes;

namespace Nabla.Data;

/// <summary>How input features are scaled before the model sees them.</summary>
public enum FeatureScaling
{
    /// <summary>As they are (the default for tables).</summary>
    None,
    /// <summary>Divided by 255: pixel bytes to [0, 1] (the default for images, as torchvision's ToTensor).</summary>
    Divide255,
    /// <summary>(x − mean) / std per feature, the statistics taken from the training data only (scikit-learn's StandardScaler).</summary>
    Standardize,
}

/// <summary>
/// The scaling of a model's inputs, with its statistics: fitted once on the training data, stored in the model
/// file, and applied by <c>eval</c> and <c>predict</c> exactly as in training.
/// </summary>
public sealed class FeatureScaler
{
    private readonly float[] _mean, _scale; // x' = (x − mean) · scale

    private FeatureScaler(FeatureScaling kind, float[] mean, float[] scale) => (Kind, _mean, _scale) = (kind, mean, scale);

    /// <summary>The scaling.</summary>
    public FeatureScaling Kind { get; }

    /// <summary>No scaling.</summary>
    public static FeatureScaler Identity { get; } = new(FeatureScaling.None, [], []);

    /// <summary>Fits <paramref name="kind"/> on <paramref name="features"/> (rows × <paramref name="width"/>).</summary>
    public static FeatureScaler Fit(FeatureScaling kind, ReadOnlySpan<float> features, int width)
    {
        if (kind == FeatureScaling.None) return Identity;
        if (kind == FeatureScaling.Divide255) return new(kind, new float[width], [.. Enumerable.Repeat(1f / 255f, width)]);
        int rows = features.Length / width;
        var mean = new double[width];
        var sq = new double[width];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < width; j++) mean[j] += features[r * width + j];
        for (int j = 0; j < width; j++) mean[j] /= Math.Max(rows, 1);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < width; j++) { double d = features[r * width + j] - mean[j]; sq[j] += d * d; }
        // Population std, as StandardScaler; a constant feature keeps scale 1 (it becomes 0 everywhere).
        var scale = sq.Select(s => Math.Sqrt(s / Math.Max(rows, 1)) is var sd && sd > 0 ? (float)(1 / sd) : 1f).ToArray();
        return new(kind, [.. mean.Select(m => (float)m)], scale);
    }

    /// <summary>Each feature's mean and factor (<c>x' = (x − mean)·scale</c>) for <paramref name="width"/> features.</summary>
    public (float[] Mean, float[] Scale) Statistics(int width) => Kind switch
    {
        FeatureScaling.None => (new float[width], [.. Enumerable.Repeat(1f, width)]),
        _ => ((float[])_mean.Clone(), (float[])_scale.Clone()),
    };

    /// <summary>Scales <paramref name="features"/> (rows × width) in place.</summary>
    public void Apply(Span<float> features)
    {
        if (Kind == FeatureScaling.None) return;
        int width = _mean.Length;
        if (features.Length % width != 0)
            throw new ArgumentException($"{features.Length} values are not whole rows of {width} features: the last row would be left unscaled.");
        for (int at = 0; at + width <= features.Length; at += width)
        {
            var row = features.Slice(at, width);
            TensorPrimitives.Subtract(row, _mean, row);
            TensorPrimitives.Multiply(row, _scale, row);
        }
    }

    /// <summary>As JSON, for model files.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["scale"] = Name(Kind) };
        if (Kind == FeatureScaling.Standardize)
        {
            o["mean"] = new JsonArray([.. _mean.Select(v => (JsonNode)JsonValue.Create(v))]);
            o["scale_factor"] = new JsonArray([.. _scale.Select(v => (JsonNode)JsonValue.Create(v))]);
        }
        else if (Kind == FeatureScaling.Divide255) o["width"] = _mean.Length;
        return o;
    }

    /// <summary>Parses <see cref="ToJson"/>'s output for a model of <paramref name="width"/> inputs.</summary>
    /// <exception cref="FormatException">Malformed, or statistics of another width.</exception>
    public static FeatureScaler FromJson(JsonNode? json, int width)
    {
        try
        {
            var o = json!.AsObject();
            var kind = Parse(o["scale"]!.GetValue<string>()) ?? throw new FormatException("unknown scaling");
            if (kind == FeatureScaling.None) return Identity;
            if (kind == FeatureScaling.Divide255) return new(kind, new float[width], [.. Enumerable.Repeat(1f / 255f, width)]);
            float[] mean = [.. o["mean"]!.AsArray().Select(v => v!.GetValue<float>())];
            float[] scale = [.. o["scale_factor"]!.AsArray().Select(v => v!.GetValue<float>())];
            if (mean.Length != width || scale.Length != width || !mean.Concat(scale).All(float.IsFinite))
                throw new FormatException($"standardization statistics for {mean.Length} features, the model takes {width}");
            return new(kind, mean, scale);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or ArgumentException)
        {
            throw new FormatException($"bad scaling ({e.Message})", e);
        }
    }

    /// <summary>The command-line spelling: none, 255, standardize.</summary>
    public static string Name(FeatureScaling kind) => kind switch
    {
        FeatureScaling.Divide255 => "255",
        FeatureScaling.Standardize => "standardize",
        _ => "none",
    };

    /// <summary>Parses <see cref="Name"/>'s spelling; null when unknown.</summary>
    public static FeatureScaling? Parse(string name) => name switch
    {
        "none" => FeatureScaling.None,
        "255" => FeatureScaling.Divide255,
        "standardize" => FeatureScaling.Standardize,
        _ => null,
    };

    /// <summary>Scaling's name with its statistics' size, for logs.</summary>
    public override string ToString() => Kind == FeatureScaling.Standardize
        ? string.Create(CultureInfo.InvariantCulture, $"standardize ({_mean.Length} features)") : Name(Kind);
}
