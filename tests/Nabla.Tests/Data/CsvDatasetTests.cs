using Nabla.Data;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Data;

public class CsvDatasetTests
{
    private static string Write(TempDir dir, string text)
    {
        File.WriteAllText(dir.File("d.csv"), text);
        return dir.File("d.csv");
    }

    [Fact]
    public void Load_KaggleLayoutWithHeader_ScalesPixels()
    {
        using var dir = new TempDir();
        var ds = CsvDataset.Load(Write(dir, "label,pixel1,pixel2\n2,0,255\n0,51,102\n"));
        Assert.Equal(2, ds.Count);
        Assert.Equal(2, ds.Features);
        Assert.Equal(3, ds.Classes);
        var x = new float[4]; var y = new int[2];
        ds.Gather([0, 1], x, y);
        Assert.Equal([0f, 1f, 0.2f, 0.4f], x);
        Assert.Equal([2, 0], y);
    }

    [Fact]
    public void Load_RaggedRow_NamesLine()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Load(Write(dir, "1,2,3\n0,1\n")));
        Assert.Contains("line 2 has 2 values; earlier lines have 3", e.Message);
    }

    [Fact]
    public void Load_NotANumber_NamesLineAndColumn()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Load(Write(dir, "1,2,3\n0,x,1\n")));
        Assert.Contains("line 2, column 2: 'x'", e.Message);
    }

    [Fact]
    public void Load_NegativeLabel_Rejected()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Load(Write(dir, "-1,2,3\n")));
        Assert.Contains("label '-1'", e.Message);
    }

    [Fact]
    public void Load_LabelBeyondGivenClasses_Rejected()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Load(Write(dir, "5,2,3\n"), classNames: ["a", "b"]));
        Assert.Contains("label 5 at row 0", e.Message);
    }
}
