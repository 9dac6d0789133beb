using Nabla.Data;
using static Nabla.IO.OnnxExporter;

namespace Nabla.IO;

/// <summary>
/// A table model's preprocessing as ONNX nodes, so that the exported graph takes raw rows as a user has them:
/// <list type="bullet">
/// <item>the numeric columns, in table order, as one float tensor <c>input</c> (batch, numeric columns), NaN for a gap:
/// <c>IsNaN</c> + <c>Where</c> fill the gaps with the training means, <c>Sub</c> and <c>Mul</c> standardize (standard
/// operators, opset 13);</item>
/// <item>each categorical column as a string tensor (batch, 1) named after the column: <c>LabelEncoder</c> of the
/// <c>ai.onnx.ml</c> domain (version 2) maps each training category to its index and the gap spellings (empty,
/// <c>NA</c>, …) to the imputed category, anything else to −1; <c>Equal</c> against 0…K−1 and <c>Cast</c> make the
/// one-hot rows (all zeros for −1, as <c>nabla predict</c> encodes an unseen category). No standard operator maps
/// strings, which is why this one part uses the ML domain.</item>
/// </list>
/// The pieces are concatenated in the columns' order, exactly as <see cref="TablePreprocessor.Apply"/> lays them out.
/// </summary>
internal static class OnnxTable
{
    public const string MlDomain = "ai.onnx.ml";

    // The gap spellings TableReader knows, as LabelEncoder keys (pandas' na_values).
    private static readonly string[] GapSpellings =
        ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"];

    /// <summary>The graph's inputs: <c>input</c> (the numeric columns) when there are any, then one string input per categorical column.</summary>
    public static IEnumerable<(string Name, int Width, int Type)> Inputs(TablePreprocessor pre)
    {
        int numeric = pre.Columns.Count(c => c.Kind == ColumnKind.Numeric);
        if (numeric > 0) yield return ("input", numeric, FloatType);
        foreach (var (_, name) in CategoricalNames(pre)) yield return (name, 1, StringType);
    }

    /// <summary>Each categorical column with its input's name: the column's name, made unique and not "input".</summary>
    public static IEnumerable<(int Index, string Name)> CategoricalNames(TablePreprocessor pre)
    {
        var used = new HashSet<string>(StringComparer.Ordinal) { "input" };
        for (int j = 0; j < pre.Columns.Count; j++)
        {
            var c = pre.Columns[j];
            if (c.Kind != ColumnKind.Categorical) continue;
            string name = c.Name.Length == 0 ? "column" : c.Name;
            for (int n = 2; !used.Add(name); n++) name = $"{c.Name}_{n}";
            yield return (j, name);
        }
    }

    /// <summary>Adds the nodes that turn the raw inputs into the features, named <paramref name="output"/>.</summary>
    public static void Preprocess(ProtoWriter graph, TablePreprocessor pre, string output)
    {
        var numeric = pre.Columns.Where(c => c.Kind == ColumnKind.Numeric).ToArray();
        if (numeric.Length > 0)
        {
            long[] dims = [1, numeric.Length];
            graph.Message(5, Initializer("pre_fill", dims, [.. numeric.Select(c => c.Fill)])); // NaN where gaps are not filled
            graph.Message(5, Initializer("pre_mean", dims, [.. numeric.Select(c => c.Mean)]));
            graph.Message(5, Initializer("pre_scale", dims, [.. numeric.Select(c => c.Scale)]));
            graph.Message(1, Node("IsNaN", ["input"], "pre_gap", "pre_isnan"));
            graph.Message(1, Node("Where", ["pre_gap", "pre_fill", "input"], "pre_filled", "pre_impute"));
            graph.Message(1, Node("Sub", ["pre_filled", "pre_mean"], "pre_centred", "pre_centre"));
            graph.Message(1, Node("Mul", ["pre_centred", "pre_scale"], "pre_numeric", "pre_standardize"));
        }
        var pieces = new List<string>();
        var categorical = CategoricalNames(pre).ToDictionary(p => p.Index, p => p.Name);
        int k = 0; // the next numeric column
        for (int j = 0; j < pre.Columns.Count;)
        {
            var c = pre.Columns[j];
            if (c.Kind == ColumnKind.Numeric)
            {
                // A run of numeric columns is one slice of the standardized block.
                int start = k;
                while (j < pre.Columns.Count && pre.Columns[j].Kind == ColumnKind.Numeric) { j++; k++; }
                string piece = $"pre_slice_{start}";
                graph.Message(5, Int64Initializer($"{piece}_starts", [1], [start]));
                graph.Message(5, Int64Initializer($"{piece}_ends", [1], [k]));
                graph.Message(5, Int64Initializer($"{piece}_axes", [1], [1]));
                graph.Message(1, Node("Slice", ["pre_numeric", $"{piece}_starts", $"{piece}_ends", $"{piece}_axes"], piece, piece));
                pieces.Add(piece);
                continue;
            }
            pieces.Add(OneHot(graph, c, categorical[j], j));
            j++;
        }
        if (pieces.Count == 1) graph.Message(1, Node("Identity", pieces, output, "pre_features"));
        else graph.Message(1, Node("Concat", pieces, output, "pre_features").Message(5, IntAttribute("axis", 1)));
    }

    /// <summary>A categorical column's string input → its one-hot block (batch, K); returns the block's name.</summary>
    private static string OneHot(ProtoWriter graph, TableColumn c, string input, int j)
    {
        int fill = c.Imputes ? (int)c.Fill : -1;
        var keys = c.Categories.Concat(GapSpellings).ToArray();
        var values = Enumerable.Range(0, c.Categories.Count).Select(i => (long)i).Concat(GapSpellings.Select(_ => (long)fill)).ToArray();
        string codes = $"pre_codes_{j}", range = $"pre_range_{j}", equal = $"pre_equal_{j}", piece = $"pre_onehot_{j}";
        graph.Message(1, Node("LabelEncoder", [input], codes, $"pre_lookup_{j}", MlDomain)
            .Message(5, StringsAttribute("keys_strings", keys))
            .Message(5, IntsAttribute("values_int64s", values))
            .Message(5, IntAttribute("default_int64", -1)));
        graph.Message(5, Int64Initializer(range, [1, c.Categories.Count], [.. Enumerable.Range(0, c.Categories.Count).Select(i => (long)i)]));
        graph.Message(1, Node("Equal", [codes, range], equal, $"pre_match_{j}"));
        graph.Message(1, Node("Cast", [equal], piece, $"pre_cast_{j}").Message(5, IntAttribute("to", FloatType)));
        return piece;
    }
}
