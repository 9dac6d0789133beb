using System.Buffers.Binary;
using System.IO.Compression;

namespace Nabla.Tests.Testing;

/// <summary>A temporary folder deleted on dispose, and helpers to write IDX files into it.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nabla-test-" + Guid.NewGuid().ToString("N")[..10]));

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Makes a FIFO (named pipe) at <paramref name="path"/> with mkfifo(1).</summary>
    public static void MakeFifo(string path)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }

    public static byte[] Idx(int[] dims, byte[] data, byte type = 0x08)
    {
        var header = new byte[4 + 4 * dims.Length];
        header[2] = type;
        header[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dims[i]);
        return [.. header, .. data];
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(raw);
        return ms.ToArray();
    }

    /// <summary>Writes a small IDX dataset (images 4×4) under the standard file names; returns the gz bytes per file.</summary>
    public Dictionary<string, byte[]> WriteDataset(int train = 20, int test = 8, int classes = 10, bool gzip = true)
    {
        var files = new Dictionary<string, byte[]>();
        var rng = new Nabla.Tensors.Rng(5);
        byte[] Images(int n) { var b = new byte[n * 16]; for (int i = 0; i < b.Length; i++) b[i] = (byte)rng.NextInt(256); return b; }
        byte[] Labels(int n) { var b = new byte[n]; for (int i = 0; i < n; i++) b[i] = (byte)(i % classes); return b; }
        void Put(string name, byte[] raw)
        {
            var bytes = gzip ? Gzip(raw) : raw;
            System.IO.File.WriteAllBytes(File(gzip ? name : name[..^3]), bytes);
            files[name] = bytes;
        }
        Put("train-images-idx3-ubyte.gz", Idx([train, 4, 4], Images(train)));
        Put("train-labels-idx1-ubyte.gz", Idx([train], Labels(train)));
        Put("t10k-images-idx3-ubyte.gz", Idx([test, 4, 4], Images(test)));
        Put("t10k-labels-idx1-ubyte.gz", Idx([test], Labels(test)));
        return files;
    }
}
