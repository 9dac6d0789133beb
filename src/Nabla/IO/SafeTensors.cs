using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Nabla.Data;

namespace Nabla.IO;

/// <summary>
/// The safetensors format (Hugging Face), which PyTorch and others read: an 8-byte little-endian header length N,
/// N bytes of JSON — <c>{"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}}</c>
/// with offsets relative to the data area — then the data area, which the tensors must cover exactly, without
/// overlap. Written by hand because no maintained .NET package implements it; small enough to check completely.
/// Reading validates everything before trusting anything, so a hostile file costs bounded memory and gives one
/// clear message (a <see cref="DataFormatException"/>).
/// </summary>
public static class SafeTensors
{
    /// <summary>Largest JSON header accepted (the format's reference implementation uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, int> ElementSizes = new()
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1, ["I16"] = 2, ["U16"] = 2, ["F16"] = 2,
        ["BF16"] = 2, ["I32"] = 4, ["U32"] = 4, ["F32"] = 4, ["F64"] = 8, ["I64"] = 8, ["U64"] = 8,
    };

    /// <summary>Writes float32 tensors and string metadata to <paramref name="path"/>, atomically.</summary>
    public static void Save(string path, IReadOnlyList<(string Name, float[] Data, long[] Shape)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, data, shape) in tensors)
            {
                if (shape.Aggregate(1L, (a, b) => a * b) != data.Length)
                    throw new ArgumentException($"Tensor {name}: shape ({string.Join(", ", shape)}) does not hold {data.Length} values.");
                w.WriteStartObject(name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (long d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset += 4L * data.Length);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 bytes, as the reference writer does, so data is aligned.
        int pad = (int)((8 - json.Length % 8) % 8);
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)(json.Length + pad));
            s.Write(len);
            s.Write(json.GetBuffer().AsSpan(0, (int)json.Length));
            for (int i = 0; i < pad; i++) s.WriteByte((byte)' ');
            var bytes = new byte[4096];
            foreach (var (_, data, _) in tensors)
            {
                for (int i = 0; i < data.Length; i += 1024)
                {
                    int n = Math.Min(1024, data.Length - i);
                    for (int j = 0; j < n; j++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * j), data[i + j]);
                    s.Write(bytes, 0, 4 * n);
                }
            }
        });
    }

    /// <summary>Reads and validates <paramref name="path"/>; returns its metadata and tensors (F32 values loaded).</summary>
    /// <exception cref="DataFormatException">Anything wrong with the file; the message says what.</exception>
    public static (IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<SafeTensorsEntry> Tensors) Read(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException($"{path}: file not found.");
        using var f = InputFile.OpenRead(path);
        long fileLength = f.Length;
        if (fileLength < 8) throw new DataFormatException($"{path}: not a safetensors file ({fileLength} bytes, shorter than the 8-byte header length).");
        Span<byte> lenBytes = stackalloc byte[8];
        f.ReadExactly(lenBytes);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (n > (ulong)(fileLength - 8))
            throw new DataFormatException($"{path}: header length {n} exceeds the file ({fileLength} bytes): truncated or not a safetensors file.");
        if (n > MaxHeaderBytes) throw new DataFormatException($"{path}: header length {n} is over the {MaxHeaderBytes}-byte limit.");
        var header = new byte[n];
        f.ReadExactly(header);
        long dataLength = fileLength - 8 - (long)n;
        var (metadata, specs) = ParseHeader(path, header, dataLength);
        var entries = new List<SafeTensorsEntry>();
        foreach (var s in specs)
        {
            float[] data = [];
            if (s.DType == "F32")
            {
                data = new float[(s.End - s.Begin) / 4];
                var raw = new byte[s.End - s.Begin];
                f.Position = 8 + (long)n + s.Begin;
                f.ReadExactly(raw);
                for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(4 * i));
            }
            entries.Add(new SafeTensorsEntry(s.Name, s.DType, s.Shape, data));
        }
        return (metadata, entries);
    }

    private sealed record Spec(string Name, string DType, long[] Shape, long Begin, long End);

    private static readonly System.Text.UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static (Dictionary<string, string>, List<Spec>) ParseHeader(string path, byte[] header, long dataLength)
    {
        try { Strict.GetCharCount(header); }
        catch (System.Text.DecoderFallbackException e) { throw new DataFormatException($"{path}: the header is not valid UTF-8.", e); }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (Exception e) when (e is JsonException or ArgumentException) { throw new DataFormatException($"{path}: the header is not well-formed JSON ({e.Message}).", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new DataFormatException($"{path}: the header is not a JSON object.");
            var metadata = new Dictionary<string, string>();
            var specs = new List<Spec>();
            var names = new HashSet<string>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                // JSON allows a key twice; a file that names a tensor twice is ambiguous, so it is refused.
                if (!names.Add(prop.Name)) throw new DataFormatException($"{path}: '{prop.Name}' appears twice in the header.");
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw new DataFormatException($"{path}: __metadata__ must be an object of strings.");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw new DataFormatException($"{path}: metadata value '{m.Name}' is not a string.");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!)) throw new DataFormatException($"{path}: metadata key '{m.Name}' appears twice.");
                    }
                    continue;
                }
                specs.Add(ParseSpec(path, prop, dataLength));
            }
            CheckCoverage(path, specs, dataLength);
            return (metadata, specs);
        }
    }

    private static Spec ParseSpec(string path, JsonProperty prop, long dataLength)
    {
        string name = prop.Name;
        var v = prop.Value;
        if (v.ValueKind != JsonValueKind.Object || !v.TryGetProperty("dtype", out var dt) || !v.TryGetProperty("shape", out var sh)
            || !v.TryGetProperty("data_offsets", out var off) || dt.ValueKind != JsonValueKind.String
            || sh.ValueKind != JsonValueKind.Array || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new DataFormatException($"{path}: tensor '{name}' needs dtype, shape and two data_offsets.");
        string dtype = dt.GetString()!;
        if (!ElementSizes.TryGetValue(dtype, out int size)) throw new DataFormatException($"{path}: tensor '{name}' has unknown dtype '{dtype}'.");
        var shape = new long[sh.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (!d.TryGetInt64(out long dim) || dim < 0) throw new DataFormatException($"{path}: tensor '{name}' has a bad dimension {d}.");
            shape[i++] = dim;
            if (dim != 0 && count > long.MaxValue / 8 / dim) throw new DataFormatException($"{path}: tensor '{name}' has a shape whose size overflows.");
            count *= dim;
        }
        if (!off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new DataFormatException($"{path}: tensor '{name}' has bad data_offsets.");
        if (end > dataLength)
            throw new DataFormatException($"{path}: tensor '{name}' ends at byte {end}, past the {dataLength}-byte data area.");
        if (end - begin != count * size)
            throw new DataFormatException($"{path}: tensor '{name}' has {end - begin} bytes but shape ({string.Join(", ", shape)}) × {size} bytes = {count * size}.");
        if (dtype == "F32" && count > Array.MaxLength) throw new DataFormatException($"{path}: tensor '{name}' is too large.");
        return new Spec(name, dtype, shape, begin, end);
    }

    /// <summary>The tensors must tile the data area exactly: sorted by offset, each starts where the previous ended.</summary>
    private static void CheckCoverage(string path, List<Spec> specs, long dataLength)
    {
        long at = 0;
        foreach (var s in specs.OrderBy(s => s.Begin).ThenBy(s => s.End))
        {
            if (s.Begin < at) throw new DataFormatException($"{path}: tensor '{s.Name}' overlaps the tensor before it.");
            if (s.Begin > at) throw new DataFormatException($"{path}: bytes {at}–{s.Begin} of the data area belong to no tensor.");
            at = s.End;
        }
        if (at != dataLength) throw new DataFormatException($"{path}: the data area has {dataLength - at} bytes after the last tensor.");
    }
}
