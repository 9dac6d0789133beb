using Nabla.NN;

namespace Nabla.IO;

/// <summary>
/// Writes an MLP as an ONNX model (opset 13, IR version 8): input <c>input</c> of shape (batch, features), then
/// <c>Flatten</c>, one <c>Gemm</c> (x·Wᵀ + b, transB = 1) per Linear, <c>Sigmoid</c>/<c>Relu</c>/<c>Tanh</c>
/// between them, and optionally a final <c>Softmax</c>; output <c>logits</c> (or <c>probabilities</c>, or
/// <c>values</c> for a regression). Dropout is the identity at inference and is left out. A table model's
/// preprocessing (<see cref="ColumnTransformer"/>) and a regression's <see cref="Rescaling"/> are exported too
/// (<see cref="OnnxTable"/>), so the graph takes raw rows, as <c>nabla predict</c> does. Field numbers follow onnx.proto.
/// </summary>
public static class OnnxExporter
{
    internal const int FloatType = 1, Int64Type = 7, StringType = 8, AttrInt = 2, AttrInts = 7, AttrStrings = 8;

    /// <summary>
    /// Exports <paramref name="model"/>, whose input has <paramref name="inputFeatures"/> features, to
    /// <paramref name="path"/>. The output is named <paramref name="outputName"/>, by default <c>probabilities</c>
    /// with <paramref name="softmax"/> and <c>logits</c> without (a regression model's exporter passes <c>values</c>).
    /// </summary>
    /// <exception cref="NotSupportedException">The model is not a Sequential of built-in layers.</exception>
    public static void Export(string path, Sequential model, int inputFeatures, bool softmax = false, string? outputName = null)
    {
        var plan = LayerPlan.Of(model, inputFeatures);
        var graph = new ProtoWriter().String(2, "nabla_mlp");
        string current = "input";
        bool ml = false;
        for (int id = 0; id < plan.Layers.Count; id++)
        {
            var spec = plan.Layers[id];
            string output = $"t{id}";
            switch (spec.Kind)
            {
                case LayerKind.ColumnTransformer:
                    OnnxTable.Preprocess(graph, spec.Preprocessor!, output);
                    ml = spec.Preprocessor!.Columns.Any(c => c.Kind == Data.ColumnKind.Categorical);
                    break;
                case LayerKind.Flatten:
                    graph.Message(1, Node("Flatten", [current], output, $"flatten_{id}").Message(5, IntAttribute("axis", 1)));
                    break;
                case LayerKind.Linear:
                    var parameters = model.Layers[id].NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
                    string w = $"weight_{id}", b = $"bias_{id}";
                    graph.Message(5, Initializer(w, [spec.OutFeatures, spec.InFeatures], parameters["weight"].ToArray()));
                    var inputs = new List<string> { current, w };
                    if (spec.Bias)
                    {
                        graph.Message(5, Initializer(b, [spec.OutFeatures], parameters["bias"].ToArray()));
                        inputs.Add(b);
                    }
                    graph.Message(1, Node("Gemm", inputs, output, $"linear_{id}").Message(5, IntAttribute("transB", 1)));
                    break;
                case LayerKind.Activation:
                    string op = spec.Activation switch
                    {
                        ActivationKind.Relu => "Relu",
                        ActivationKind.Tanh => "Tanh",
                        ActivationKind.Sigmoid => "Sigmoid",
                        var a => throw new NotSupportedException($"activation {a} has no ONNX operator here"),
                    };
                    graph.Message(1, Node(op, [current], output, $"{op.ToLowerInvariant()}_{id}"));
                    break;
                case LayerKind.Dropout:
                    continue; // identity at inference
                case LayerKind.Softmax:
                    graph.Message(1, Node("Softmax", [current], output, $"softmax_{id}").Message(5, IntAttribute("axis", 1)));
                    break;
                case LayerKind.Rescaling:
                    graph.Message(5, Initializer($"scale_{id}", [spec.OutFeatures], spec.Scale!));
                    graph.Message(5, Initializer($"offset_{id}", [spec.OutFeatures], spec.Offset!));
                    graph.Message(1, Node("Mul", [current, $"scale_{id}"], $"scaled_{id}", $"rescale_{id}"));
                    graph.Message(1, Node("Add", [$"scaled_{id}", $"offset_{id}"], output, $"offset_{id}"));
                    break;
                default:
                    throw new NotSupportedException($"layer {id} ({spec}) has no ONNX form here.");
            }
            current = output;
        }
        int features = plan.OutputFeatures;
        string final = outputName ?? (softmax ? "probabilities" : "logits");
        if (softmax) graph.Message(1, Node("Softmax", [current], final, "softmax_out").Message(5, IntAttribute("axis", 1)));
        else graph.Message(1, Node("Identity", [current], final, "output"));
        if (plan.Layers.Count > 0 && plan.Layers[0].Kind == LayerKind.ColumnTransformer)
            foreach (var input in OnnxTable.Inputs(plan.Layers[0].Preprocessor!)) graph.Message(11, ValueInfo(input.Name, input.Width, input.Type));
        else graph.Message(11, ValueInfo("input", inputFeatures));
        graph.Message(12, ValueInfo(final, features));
        var model_ = new ProtoWriter()
            .Varint(1, 8)
            .String(2, "nabla")
            .String(3, typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "0")
            .Message(7, graph)
            .Message(8, new ProtoWriter().String(1, "").Varint(2, 13));
        if (ml) model_.Message(8, new ProtoWriter().String(1, OnnxTable.MlDomain).Varint(2, 2));
        var bytes = model_.ToArray();
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    internal static ProtoWriter Node(string op, IEnumerable<string> inputs, string output, string name, string? domain = null)
    {
        var n = new ProtoWriter();
        foreach (var i in inputs) n.String(1, i);
        n.String(2, output).String(3, name).String(4, op);
        if (domain is not null) n.String(7, domain);
        return n;
    }

    internal static ProtoWriter IntAttribute(string name, long value) => new ProtoWriter().String(1, name).Varint(3, value).Varint(20, AttrInt);

    internal static ProtoWriter IntsAttribute(string name, IEnumerable<long> values)
    {
        var a = new ProtoWriter().String(1, name);
        foreach (long v in values) a.Varint(8, v);
        return a.Varint(20, AttrInts);
    }

    internal static ProtoWriter StringsAttribute(string name, IEnumerable<string> values)
    {
        var a = new ProtoWriter().String(1, name);
        foreach (string v in values) a.String(9, v);
        return a.Varint(20, AttrStrings);
    }

    internal static ProtoWriter Initializer(string name, long[] dims, float[] data)
    {
        var raw = new byte[data.Length * 4];
        for (int i = 0; i < data.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(4 * i), data[i]);
        return TensorProto(name, dims, FloatType, raw);
    }

    internal static ProtoWriter Int64Initializer(string name, long[] dims, long[] data)
    {
        var raw = new byte[data.Length * 8];
        for (int i = 0; i < data.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(8 * i), data[i]);
        return TensorProto(name, dims, Int64Type, raw);
    }

    /// <summary>A TensorProto: dims, data type, name and the little-endian raw data.</summary>
    private static ProtoWriter TensorProto(string name, long[] dims, int type, byte[] raw)
    {
        var t = new ProtoWriter();
        foreach (long d in dims) t.Varint(1, d);
        return t.Varint(2, type).String(8, name).Bytes(9, raw);
    }

    /// <summary>A tensor of shape (batch, features), the batch dimension symbolic.</summary>
    private static ProtoWriter ValueInfo(string name, int features, int type = FloatType)
    {
        var shape = new ProtoWriter()
            .Message(1, new ProtoWriter().String(2, "batch"))
            .Message(1, new ProtoWriter().Varint(1, features));
        var tensorType = new ProtoWriter().Varint(1, type).Message(2, shape);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }
}
