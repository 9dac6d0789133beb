using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Nabla.Data;
using Nabla.IO;
using Nabla.NN;
using Nabla.Tensors;
using Nabla.Tests.Testing;

namespace Nabla.Tests.IO;

public class SafeTensorsTests
{
    private static readonly MlpArchitecture Textbook = new(784, [32], ActivationKind.Sigmoid, 10);

    [Fact]
    public void ModelFile_RoundTrip_SameWeightsArchitectureAndClasses()
    {
        using var dir = new TempDir();
        var model = Textbook.Create(new Rng(3));
        ModelFile.Save(dir.File("m.safetensors"), model, Textbook, FashionMnist.ClassNames);
        var loaded = ModelFile.Load(dir.File("m.safetensors"));
        Assert.Equal(Textbook.ToString(), loaded.Plan.ToString());
        Assert.Equal(FashionMnist.ClassNames, loaded.ClassNames);
        var a = model.NamedParameters();
        var b = loaded.Model.NamedParameters();
        Assert.Equal(a.Select(p => p.Name), b.Select(p => p.Name));
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].Parameter.ToArray(), b[i].Parameter.ToArray());
        Assert.Empty(Directory.GetFiles(dir.Path, ".*tmp*")); // written atomically, no temporary left behind
    }

    [Fact]
    public void Save_Layout_IsTheSpecification()
    {
        using var dir = new TempDir();
        SafeTensors.Save(dir.File("t.safetensors"), [("a", [1f, 2f], [2]), ("b", [3f], [1, 1])], new Dictionary<string, string> { ["k"] = "v" });
        var bytes = File.ReadAllBytes(dir.File("t.safetensors"));
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        Assert.Equal("v", header.RootElement.GetProperty("__metadata__").GetProperty("k").GetString());
        Assert.Equal("[0,8]", header.RootElement.GetProperty("a").GetProperty("data_offsets").GetRawText());
        Assert.Equal(3f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 8)));
    }

    [Fact]
    public void Load_PyTorchWrittenFile_GivesPyTorchLogits()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "IO", "Fixtures");
        Assert.Throws<UnknownActivationException>(() => ModelFile.Load(Path.Combine(dir, "textbook_torch.safetensors")));
        var loaded = ModelFile.Load(Path.Combine(dir, "textbook_torch.safetensors"), [ActivationKind.Sigmoid]);
        Assert.Equal("784-32-10 sigmoid", loaded.Plan.ToString());
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "textbook_torch_logits.json")));
        var x = new float[2 * 784];
        for (int i = 0; i < 784; i++) { x[i] = (i % 7) / 7f; x[784 + i] = ((i * 3) % 11) / 11f; }
        var logits = loaded.Model.Forward(Tensor.FromArray(x, 2, 1, 28, 28)).ToArray();
        var want = expected.RootElement.GetProperty("logits").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => (float)v.GetDouble()).ToArray();
        Close.All(want, logits, 1e-5, 1e-5);
    }

    private static DataFormatException Hostile(byte[] bytes)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("h.safetensors"), bytes);
        return Assert.Throws<DataFormatException>(() => SafeTensors.Read(dir.File("h.safetensors")));
    }

    private static byte[] File_(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var b = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)h.Length);
        h.CopyTo(b, 8);
        return b;
    }

    [Fact]
    public void Read_HeaderLength2Pow63_RejectedWithoutAllocating()
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(b, 1UL << 63);
        Assert.Contains("exceeds the file", Hostile(b).Message);
    }

    [Fact]
    public void Read_TooShort_Rejected() => Assert.Contains("shorter than", Hostile([1, 2, 3]).Message);

    [Fact]
    public void Read_MalformedJson_Rejected() => Assert.Contains("not well-formed JSON", Hostile(File_("{\"a\": [", 0)).Message);

    [Fact]
    public void Read_OffsetsPastEnd_Rejected() =>
        Assert.Contains("past the 8-byte data area", Hostile(File_("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)).Message);

    [Fact]
    public void Read_Overlap_Rejected() =>
        Assert.Contains("overlaps", Hostile(File_("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)).Message);

    [Fact]
    public void Read_Hole_Rejected() =>
        Assert.Contains("belong to no tensor", Hostile(File_("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)).Message);

    [Fact]
    public void Read_UnknownDtype_Rejected() =>
        Assert.Contains("unknown dtype 'F128'", Hostile(File_("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16)).Message);

    [Fact]
    public void Read_ShapeOverflows_Rejected() =>
        Assert.Contains("overflows", Hostile(File_("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", 4)).Message);

    [Fact]
    public void Read_ShapeDisagreesWithBytes_Rejected() =>
        Assert.Contains("shape (3) × 4 bytes = 12", Hostile(File_("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)).Message);

    [Fact]
    public void Load_ShapeMismatchWithModel_NamesBoth()
    {
        using var dir = new TempDir();
        var other = new MlpArchitecture(784, [16], ActivationKind.Sigmoid, 10);
        ModelFile.Save(dir.File("m.safetensors"), other.Create(new Rng(1)), other, FashionMnist.ClassNames);
        var (_, tensors) = SafeTensors.Read(dir.File("m.safetensors"));
        var e = Assert.Throws<DataFormatException>(() => ModelFile.LoadInto("m", Textbook.Create(new Rng(1)), tensors));
        Assert.Contains("'1.weight' has shape (16, 784) in the file but (32, 784) in the model", e.Message);
    }

    [Fact]
    public void Load_MissingParameter_Named()
    {
        using var dir = new TempDir();
        SafeTensors.Save(dir.File("p.safetensors"), [("1.weight", new float[32 * 784], [32, 784])]);
        var (_, tensors) = SafeTensors.Read(dir.File("p.safetensors"));
        var e = Assert.Throws<DataFormatException>(() => ModelFile.LoadInto("p", Textbook.Create(new Rng(1)), tensors));
        Assert.Contains("'1.bias'", e.Message);
    }
}
