using System.Diagnostics;
using System.Globalization;
using System.Text;
using Nabla.Cli;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Cli;

/// <summary>
/// `nabla train` on a CSV large enough to cache: the first run parses it and leaves a binary copy under
/// $XDG_CACHE_HOME/nabla/tables, the second maps that copy, and both train the same bits. Child processes, so that
/// the cache folder is the child's environment's and not the user's.
/// </summary>
public class TableCacheCliTests
{
    [Fact]
    public void ASecondRun_ReadsTheCachedCopy_AndTrainsTheSameBits()
    {
        using var dir = new TempDir();
        string csv = dir.File("big.csv"), cache = dir.File("cache");
        var rng = new Random(5);
        var sb = new StringBuilder(string.Join(',', Enumerable.Range(0, 10).Select(j => $"f{j}")) + ",label\n");
        for (int r = 0; r < 16_000; r++)
            sb.Append(string.Join(',', Enumerable.Range(0, 10).Select(_ => rng.NextDouble().ToString("F5", CultureInfo.InvariantCulture)))).Append(',').Append(r % 3).Append('\n');
        File.WriteAllText(csv, sb.ToString());
        Assert.True(new FileInfo(csv).Length >= Nabla.Data.TableCache.MinBytes);

        Train(csv, cache, dir.File("first.nabla"));
        string copy = Assert.Single(Directory.GetFiles(Path.Combine(cache, "nabla", "tables")));
        var written = File.GetLastWriteTimeUtc(copy);
        Train(csv, cache, dir.File("second.nabla"));
        Assert.Equal(written, File.GetLastWriteTimeUtc(copy)); // read, not rewritten
        Assert.Equal(File.ReadAllBytes(dir.File("first.nabla")), File.ReadAllBytes(dir.File("second.nabla")));
    }

    private static void Train(string csv, string cache, string save)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var a in new[] { "train", "--data", csv, "--label-column", "label", "--hidden", "8", "--epochs", "1", "--batch-size", "64", "--tol", "0", "--threads", "1", "--save", save })
            psi.ArgumentList.Add(a);
        psi.Environment["XDG_CACHE_HOME"] = cache;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "the child did not finish");
        Assert.True(p.ExitCode == 0, stderr.Result);
    }
}
