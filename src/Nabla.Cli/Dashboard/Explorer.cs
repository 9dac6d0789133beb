using System.Text.Json.Nodes;
using Nabla.Autograd;
using Nabla.Backprop;
using Nabla.Tensors;

namespace Nabla.Cli.Dashboard;

/// <summary>
/// The backprop explorer's computation: a small network of section 8.5 (sigmoid hidden layers, softmax output,
/// cross-entropy), run through the textbook's forward loop storing (A_i, B_i) and backward loop of p_i and q_i
/// (<see cref="LiteralBackprop"/>, in double), and differentiated by autograd (float32) for comparison.
/// </summary>
internal static class Explorer
{
    /// <summary>Largest layer width the explorer takes (B_i has n_{i+1}² n_i entries).</summary>
    public const int MaxWidth = 8;

    /// <summary>Most weight matrices the explorer takes.</summary>
    public const int MaxLayers = 4;

    /// <summary>Section 8.5.2's worked example: x = (1, 0, −1), y = (0, 1), W0 = [[0, 1, −1], [2, 0, 1]], W1 = [[−1, 0], [2, −1]].</summary>
    public static readonly Network WorkedExample = new(
        [1, 0, -1], [0, 1],
        [DMatrix.FromRows([0, 1, -1], [2, 0, 1]), DMatrix.FromRows([-1, 0], [2, -1])]);

    /// <summary>A network and one sample: input x, target distribution y, weights W_0 … W_L.</summary>
    internal sealed record Network(double[] X, double[] Y, IReadOnlyList<DMatrix> Weights)
    {
        /// <summary>The request body's form: <c>{"x": [...], "y": [...], "weights": [[[...]...]...]}</c>.</summary>
        public JsonObject ToJson() => new()
        {
            ["x"] = Vector(X),
            ["y"] = Vector(Y),
            ["weights"] = new JsonArray([.. Weights.Select(w => (JsonNode)Matrix(w))]),
        };
    }

    /// <summary>Reads and checks a request body; the message of the exception says what is wrong.</summary>
    /// <exception cref="FormatException">The body is not a network the explorer takes.</exception>
    public static Network Parse(JsonNode? body)
    {
        if (body is not JsonObject o) throw new FormatException("the body must be a JSON object with x, y and weights.");
        var x = Numbers(o["x"], "x");
        var y = Numbers(o["y"], "y");
        if (o["weights"] is not JsonArray ws || ws.Count is 0 or > MaxLayers) throw new FormatException($"weights must be a list of 1 to {MaxLayers} matrices.");
        var weights = new List<DMatrix>();
        int width = x.Length;
        for (int i = 0; i < ws.Count; i++)
        {
            if (ws[i] is not JsonArray rows || rows.Count is 0 or > MaxWidth) throw new FormatException($"W{i} must have 1 to {MaxWidth} rows.");
            var m = rows.Select((r, k) => Numbers(r, $"W{i} row {k}")).ToArray();
            if (m.Any(r => r.Length != width)) throw new FormatException($"W{i} must have {width} columns (the width of z{i}).");
            weights.Add(DMatrix.FromRows(m));
            width = m.Length;
        }
        if (y.Length != width) throw new FormatException($"y must have {width} entries (the output's width).");
        if (y.Any(v => v < 0) || y.Sum() <= 0) throw new FormatException("y must be a distribution: entries ≥ 0, not all 0.");
        return new Network(x, y, weights);
    }

    private static double[] Numbers(JsonNode? node, string name)
    {
        if (node is not JsonArray a || a.Count is 0 or > MaxWidth) throw new FormatException($"{name} must be a list of 1 to {MaxWidth} numbers.");
        var v = new double[a.Count];
        for (int i = 0; i < v.Length; i++)
        {
            if (a[i] is not JsonValue value || !value.TryGetValue(out double d) || !double.IsFinite(d) || Math.Abs(d) > 1000)
                throw new FormatException($"{name}[{i}] must be a number between -1000 and 1000.");
            v[i] = d;
        }
        return v;
    }

    /// <summary>Everything the page shows: z_i, A_i, B_i, the loss, p_i, q_i, and autograd's gradients.</summary>
    public static JsonObject Compute(Network net)
    {
        var r = LiteralBackprop.Run(net.Weights, net.X, net.Y);
        var autograd = Autograd(net);
        double worst = 0;
        for (int i = 0; i < r.Gradients.Count; i++)
            for (int k = 0; k < autograd[i].Length; k++) worst = Math.Max(worst, Math.Abs(autograd[i][k] - r.Gradients[i].Data[k]));
        return new JsonObject
        {
            ["network"] = net.ToJson(),
            ["z"] = new JsonArray([.. r.Z.Select(z => (JsonNode)Vector(z.Data))]),
            ["A"] = new JsonArray([.. r.A.Select(m => (JsonNode)Matrix(m))]),
            ["B"] = new JsonArray([.. r.B.Select(m => (JsonNode)Matrix(m))]),
            ["loss"] = r.Loss,
            ["p"] = new JsonArray([.. r.Adjoints.Select(p => (JsonNode)Vector(p.Data))]),
            ["q"] = new JsonArray([.. r.Gradients.Select(q => (JsonNode)Matrix(q))]),
            ["autograd"] = new JsonArray([.. autograd.Select((g, i) => (JsonNode)Matrix(new DMatrix(net.Weights[i].Rows, net.Weights[i].Cols).Fill(g)))]),
            ["max_difference"] = worst,
        };
    }

    /// <summary>The same network in float32 tensors, f.Backward(): each weight's gradient, row-major.</summary>
    private static double[][] Autograd(Network net)
    {
        var z = Tensor.FromArray([.. net.X.Select(v => (float)v)]);
        var ws = net.Weights.Select(w => Tensor.FromArray([.. w.Data.Select(v => (float)v)], w.Rows, w.Cols).RequireGrad()).ToArray();
        for (int i = 0; i < ws.Length; i++)
        {
            var t = ws[i].MatMul(z);
            z = i < ws.Length - 1 ? t.Sigmoid() : t.Softmax(0); // z_{i+1} = σ(W_i z_i); ŷ = γ(W_L z_L)
        }
        var f = -z.Log().Dot(Tensor.FromArray([.. net.Y.Select(v => (float)v)])); // f = −⟨log ŷ, y⟩
        f.Backward();
        return [.. ws.Select(w => w.Grad!.ToArray().Select(v => (double)v).ToArray())];
    }

    private static JsonArray Vector(IEnumerable<double> v) => [.. v.Select(d => (JsonNode)Math.Round(d, 10))];

    private static JsonArray Matrix(DMatrix m) => [.. m.ToJagged().Select(r => (JsonNode)Vector(r))];

    private static DMatrix Fill(this DMatrix m, double[] values)
    {
        values.CopyTo(m.Data, 0);
        return m;
    }
}
