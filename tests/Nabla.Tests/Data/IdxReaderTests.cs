using Nabla.Data;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Data;

public class IdxReaderTests
{
    private static DataFormatException Fails(byte[] bytes, string name = "x.idx")
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File(name), bytes);
        return Assert.Throws<DataFormatException>(() => IdxReader.Read(dir.File(name)));
    }

    [Fact]
    public void Read_RawAndGzip_GiveSameContents()
    {
        using var dir = new TempDir();
        var raw = TempDir.Idx([2, 3], [1, 2, 3, 4, 5, 6]);
        File.WriteAllBytes(dir.File("a.idx"), raw);
        File.WriteAllBytes(dir.File("a.idx.gz"), TempDir.Gzip(raw));
        var a = IdxReader.Read(dir.File("a.idx"));
        var b = IdxReader.Read(dir.File("a.idx.gz"));
        Assert.Equal([2, 3], a.Dimensions);
        Assert.Equal(a.Data, b.Data);
        Assert.Equal(3, a.ItemSize);
    }

    [Fact]
    public void Read_WrongMagic_SaysNotIdx() =>
        Assert.Contains("not an IDX file", Fails([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7]).Message);

    [Fact]
    public void Read_UnsupportedType_SaysSo() =>
        Assert.Contains("data type 0x0D", Fails(TempDir.Idx([1], [0, 0, 0, 0], type: 0x0D)).Message);

    [Fact]
    public void Read_BadRank_SaysSo() =>
        Assert.Contains("rank 0", Fails([0, 0, 0x08, 0]).Message);

    [Fact]
    public void Read_DimsExceedFile_SaysTruncated() =>
        Assert.Contains("need 17 bytes but the file holds 12", Fails(TempDir.Idx([9], [1, 2, 3, 4])).Message);

    [Fact]
    public void Read_TrailingBytes_Rejected() =>
        Assert.Contains("holds", Fails(TempDir.Idx([2], [1, 2, 3])).Message);

    [Fact]
    public void Read_DimsProductOverflows_RejectedBeforeAllocating()
    {
        var bytes = TempDir.Idx([int.MaxValue, int.MaxValue, int.MaxValue], []);
        Assert.Contains("more than", Fails(bytes).Message);
    }

    [Fact]
    public void Read_TruncatedGzip_SaysCorruptOrTruncated()
    {
        var gz = TempDir.Gzip(TempDir.Idx([100, 10], Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray()));
        var e = Fails(gz[..(gz.Length / 2)], "t.gz");
        Assert.Matches("truncated|corrupt", e.Message);
    }

    [Fact]
    public void Read_GzipTrailerDisagreesWithDims_Rejected()
    {
        var gz = TempDir.Gzip(TempDir.Idx([4], [1, 2, 3, 4]));
        gz[^4] ^= 0x01; // ISIZE no longer matches header + data
        Assert.Matches("truncated|corrupt", Fails(gz, "t.gz").Message);
    }

    [Fact]
    public void Cache_ReadsTheSameData_RebuildsADamagedCopy_AndFollowsAChangedSource()
    {
        using var dir = new TempDir();
        var data = new byte[1100 * 1000];
        new Random(3).NextBytes(data);
        string gz = dir.File("big-idx1-ubyte.gz");
        File.WriteAllBytes(gz, TempDir.Gzip(TempDir.Idx([1100, 1000], data)));
        string cache = dir.File("cache");
        var first = IdxCache.Read(gz, cache, [1100, 1000]);
        string copy = Assert.Single(Directory.GetFiles(cache));
        var second = IdxCache.Read(gz, cache, [1100, 1000]);
        Assert.Equal(data, second.Data);
        // The copy is mapped, not read: processes on one host share the page cache's one copy of it.
        Assert.False(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(second.Data, out _));
        Assert.Equal(first.Data, IdxReader.Read(copy).Data);

        File.WriteAllBytes(copy, File.ReadAllBytes(copy)[..1000]); // a damaged copy is read around and rebuilt
        Assert.Equal(data, IdxCache.Read(gz, cache, [1100, 1000]).Data);
        Assert.Equal(4 + 2 * 4 + data.Length, new FileInfo(copy).Length);

        data[0] ^= 1; // a changed source (new length or time) gets its own copy
        File.WriteAllBytes(gz, TempDir.Gzip(TempDir.Idx([1100, 1000], data)));
        File.SetLastWriteTimeUtc(gz, DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(data, IdxCache.Read(gz, cache, [1100, 1000]).Data);
    }

    [Fact]
    public void Read_EmptyFile_SaysTruncated() => Assert.Contains("truncated", Fails([]).Message);

    [Fact]
    public void Read_Missing_SaysNotFound() =>
        Assert.Contains("not found", Assert.Throws<DataFormatException>(() => IdxReader.Read("/nonexistent/x.gz")).Message);

    [Fact]
    public void Load_ImageLabelCountMismatch_Rejected()
    {
        using var dir = new TempDir();
        dir.WriteDataset();
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte.gz"), TempDir.Gzip(TempDir.Idx([19], new byte[19])));
        var e = Assert.Throws<DataFormatException>(() => DatasetLocator.Load(FashionMnist.Spec, dir.Path));
        Assert.Contains("20 images but 19 labels", e.Message);
    }

    [Fact]
    public void Load_LabelOutOfRange_NamesIndexAndValue()
    {
        using var dir = new TempDir();
        dir.WriteDataset();
        var labels = new byte[20];
        labels[13] = 12;
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte.gz"), TempDir.Gzip(TempDir.Idx([20], labels)));
        var e = Assert.Throws<DataFormatException>(() => DatasetLocator.Load(FashionMnist.Spec, dir.Path));
        Assert.Contains("label 12 at index 13", e.Message);
    }

    [Fact]
    public void Load_ValidFiles_GivesDatasets()
    {
        using var dir = new TempDir();
        dir.WriteDataset(gzip: false);
        var (train, test) = DatasetLocator.Load(FashionMnist.Spec, dir.Path);
        Assert.Equal(20, train.Count);
        Assert.Equal(8, test.Count);
        Assert.Equal(16, train.Features);
        Assert.Equal("Ankle boot", train.ClassNames[9]);
    }
}
