using System.Runtime.InteropServices;
using System.Text;
using Nabla.Data;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Data;

/// <summary>Parsed training tables kept as binary copies and mapped when read again (one copy per host for an MPI job).</summary>
public class TableCacheTests
{
    private static string Csv(int rows, int seed)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder("a,colour,b,label\n");
        string[] colours = ["red", "green", "blue"];
        for (int r = 0; r < rows; r++)
            sb.Append($"{rng.NextDouble():F4},{colours[rng.Next(3)]},{(r % 17 == 0 ? "" : rng.Next(100).ToString())},{(r % 3 == 0 ? "cat" : "dog")}\n");
        return sb.ToString();
    }

    private static void Same(RawTable expected, RawTable actual)
    {
        Assert.Equal(expected.Values.ToArray(), actual.Values.ToArray());
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.Targets, actual.Targets);
        Assert.Equal(expected.ClassNames, actual.ClassNames);
        Assert.Equal(expected.TargetNames, actual.TargetNames);
        Assert.Equal(expected.Columns.Select(c => (c.Name, c.Kind, string.Join('|', c.Categories))), actual.Columns.Select(c => (c.Name, c.Kind, string.Join('|', c.Categories))));
        Assert.Equal(expected.LabelName, actual.LabelName);
        Assert.Equal(expected.HasHeader, actual.HasHeader);
        Assert.Equal(expected.Notes, actual.Notes);
    }

    [Fact]
    public void Copy_IsMapped_ReadsAsTheParse_RebuildsWhenDamaged_AndFollowsTheSourceAndOptions()
    {
        using var dir = new TempDir();
        string csv = dir.File("t.csv"), cache = dir.File("cache");
        File.WriteAllText(csv, Csv(2000, 1));
        var options = new TableOptions { Csv = new CsvOptions("label") };
        var parsed = TableReader.Read(csv, options);
        var first = TableCache.Read(csv, options, cache, minBytes: 0);
        Same(parsed, first);
        string copy = Assert.Single(Directory.GetFiles(cache));
        var second = TableCache.Read(csv, options, cache, minBytes: 0);
        Same(parsed, second);
        // Mapped, not read: the processes on one host share the page cache's one copy of the values.
        Assert.False(MemoryMarshal.TryGetArray(second.Values, out _));
        Assert.True(MemoryMarshal.TryGetArray(first.Values, out _));

        File.WriteAllBytes(copy, File.ReadAllBytes(copy)[..500]); // damaged: read around, rebuilt whole
        Same(parsed, TableCache.Read(csv, options, cache, minBytes: 0));
        Same(parsed, TableCache.Read(csv, options, cache, minBytes: 0));
        Assert.Single(Directory.GetFiles(cache));

        var regression = new TableOptions { Csv = new CsvOptions("a"), Regression = true }; // other options: a copy of their own
        Same(TableReader.Read(csv, regression), TableCache.Read(csv, regression, cache, minBytes: 0));
        Same(TableReader.Read(csv, regression), TableCache.Read(csv, regression, cache, minBytes: 0));
        Assert.Equal(2, Directory.GetFiles(cache).Length);

        File.WriteAllText(csv, Csv(2001, 2)); // a changed source is parsed afresh
        File.SetLastWriteTimeUtc(csv, DateTime.UtcNow.AddMinutes(1));
        Same(TableReader.Read(csv, options), TableCache.Read(csv, options, cache, minBytes: 0));
        Assert.Empty(Directory.GetFiles(cache, "*.tmp-*"));
    }

    [Fact]
    public void SmallFiles_AndNoFolder_AreParsedWithoutACopy()
    {
        using var dir = new TempDir();
        string csv = dir.File("t.csv"), cache = dir.File("cache");
        File.WriteAllText(csv, Csv(50, 1));
        var options = new TableOptions { Csv = new CsvOptions("label") };
        TableCache.Read(csv, options, cache);
        TableCache.Read(csv, options, null, minBytes: 0);
        Assert.False(Directory.Exists(cache));
    }

    [Fact]
    public void EveryReadingOption_IsPartOfTheCopysName()
    {
        // A new option that changes what is read must be in OptionsKey, or two runs with different options would share a copy.
        var plain = new TableOptions();
        TableOptions[] changed =
        [
            plain with { Csv = new CsvOptions("x") }, plain with { Csv = new CsvOptions(null, CsvHeader.No) }, plain with { Csv = new CsvOptions(null, CsvHeader.Auto, ';') },
            plain with { Regression = true }, plain with { Categorical = ["c"] }, plain with { Drop = ["d"] }, plain with { Impute = false }, plain with { MaxCategories = 7 },
        ];
        Assert.Equal(typeof(TableOptions).GetProperties().Length + typeof(CsvOptions).GetProperties().Length - 1, changed.Length);
        var keys = changed.Select(TableCache.OptionsKey).Append(TableCache.OptionsKey(plain)).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }
}
