using System.Text;
using Nabla.Data;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Data;

/// <summary>NumPy .npy files as NumPy writes them (version 1, a padded dict header), valid and hostile.</summary>
public class NpyReaderTests
{
    private static byte[] Npy(string descr, string shape, byte[] data, bool fortran = false)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': ({shape}), }}";
        int total = 10 + dict.Length + 1;
        dict += new string(' ', (64 - total % 64) % 64) + "\n";
        var header = Encoding.Latin1.GetBytes(dict);
        return [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, (byte)(header.Length >> 8), .. header, .. data];
    }

    private static byte[] Floats(params float[] v) => [.. v.SelectMany(BitConverter.GetBytes)];

    [Fact]
    public void Dataset_FloatFeaturesIntLabels_Read()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("x.npy"), Npy("<f4", "3, 2", Floats(1, 2, 3, 4, 5, 6)));
        File.WriteAllBytes(dir.File("y.npy"), Npy("<i8", "3,", [.. new long[] { 0, 2, 1 }.SelectMany(BitConverter.GetBytes)]));
        var d = NpyReader.Dataset(dir.File("x.npy"), dir.File("y.npy"));
        Assert.Equal(3, d.Count);
        Assert.Equal(2, d.Features);
        Assert.Equal(3, d.Classes);
        var x = new float[6];
        var y = new int[3];
        d.Gather([0, 1, 2], x, y);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], x);
        Assert.Equal([0, 2, 1], y);
    }

    [Fact]
    public void Dataset_Float32Features_AreMapped_OtherDtypesConverted()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("x4.npy"), Npy("<f4", "3, 2", Floats(1, 2, 3, 4, 5, 6)));
        File.WriteAllBytes(dir.File("x8.npy"), Npy("<f8", "3, 2", [.. new double[] { 1, 2, 3, 4, 5, 6 }.SelectMany(BitConverter.GetBytes)]));
        File.WriteAllBytes(dir.File("y.npy"), Npy("<i8", "3,", [.. new long[] { 0, 2, 1 }.SelectMany(BitConverter.GetBytes)]));
        var mapped = NpyReader.Dataset(dir.File("x4.npy"), dir.File("y.npy"));
        var read = NpyReader.Dataset(dir.File("x8.npy"), dir.File("y.npy"));
        // float32 is mapped, not read: the processes of a job on one host share the page cache's one copy.
        Assert.False(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(mapped.FeatureMemory, out _));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(read.FeatureMemory, out _));
        Assert.Equal(read.FeatureMemory.ToArray(), mapped.FeatureMemory.ToArray());
    }

    [Theory]
    [InlineData("<f4")]
    [InlineData("<f8")]
    public void Dataset_NotFiniteFeature_IsRefused_NamingTheElement(string dtype)
    {
        using var dir = new TempDir();
        var v = new double[] { 1, 2, 3, double.NaN, 5, 6 };
        byte[] data = dtype == "<f4" ? Floats([.. v.Select(d => (float)d)]) : [.. v.SelectMany(BitConverter.GetBytes)];
        File.WriteAllBytes(dir.File("x.npy"), Npy(dtype, "3, 2", data));
        File.WriteAllBytes(dir.File("y.npy"), Npy("<i8", "3,", [.. new long[] { 0, 2, 1 }.SelectMany(BitConverter.GetBytes)]));
        var e = Assert.Throws<DataFormatException>(() => NpyReader.Dataset(dir.File("x.npy"), dir.File("y.npy")));
        Assert.Contains("element 3 is NaN, not a finite number", e.Message);
    }

    [Theory]
    [InlineData(">f4", "3, 2", 24, "little-endian")]
    [InlineData("<f4", "3, 2", 20, "truncated")]
    [InlineData("<c8", "3,", 24, "not supported")]
    [InlineData("<f4", "2147483647, 2147483647", 24, "too large")]
    public void Read_Hostile_OneMessage(string descr, string shape, int bytes, string message)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("a.npy"), Npy(descr, shape, new byte[bytes]));
        Assert.Contains(message, Assert.Throws<DataFormatException>(() => NpyReader.Read(dir.File("a.npy"))).Message);
    }

    [Fact]
    public void Read_FortranOrder_AndBadMagic_Refused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("f.npy"), Npy("<f4", "2, 2", new byte[16], fortran: true));
        Assert.Contains("Fortran", Assert.Throws<DataFormatException>(() => NpyReader.Read(dir.File("f.npy"))).Message);
        File.WriteAllBytes(dir.File("m.npy"), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        Assert.Contains("magic", Assert.Throws<DataFormatException>(() => NpyReader.Read(dir.File("m.npy"))).Message);
    }
}
