using System.Diagnostics;
using Nabla.Data;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Data;

/// <summary>Opening user-named files: regular files only, FIFOs and devices refused at once, links as asked.</summary>
public class InputFileTests
{
    [Fact]
    public void OpenRead_ARegularFile_ReadsIt_EvenThroughALink()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.txt"), "hello");
        File.CreateSymbolicLink(dir.File("link.txt"), dir.File("a.txt"));
        using (var s = InputFile.OpenRead(dir.File("a.txt"))) Assert.Equal("hello", new StreamReader(s).ReadToEnd());
        using (var s = InputFile.OpenRead(dir.File("link.txt"))) Assert.Equal("hello", new StreamReader(s).ReadToEnd());
    }

    [Fact]
    public void OpenRead_AFifo_IsRefusedAtOnce_NotBlocked()
    {
        using var dir = new TempDir();
        TempDir.MakeFifo(dir.File("pipe"));
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<DataFormatException>(() => InputFile.OpenRead(dir.File("pipe")));
        Assert.Contains("a FIFO, not a regular file", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("/dev/zero", "a character device")]
    [InlineData("/dev/null", "a character device")]
    [InlineData("/tmp", "a folder")]
    public void OpenRead_DevicesAndFolders_AreRefused(string path, string kind)
    {
        var e = Assert.Throws<DataFormatException>(() => InputFile.OpenRead(path));
        Assert.Contains(kind, e.Message);
    }

    [Fact]
    public void OpenRead_Missing_SaysNotFound()
    {
        using var dir = new TempDir();
        Assert.Contains("file not found", Assert.Throws<DataFormatException>(() => InputFile.OpenRead(dir.File("none"))).Message);
    }

    [Fact]
    public void OpenInside_RefusesLinks_AndFilesReachedThroughLinkedFolders()
    {
        using var dir = new TempDir();
        string root = dir.File("root");
        Directory.CreateDirectory(Path.Combine(root, "run"));
        File.WriteAllText(Path.Combine(root, "run", "ok.txt"), "ok");
        File.WriteAllText(dir.File("secret.txt"), "SECRET");
        File.CreateSymbolicLink(Path.Combine(root, "run", "link.txt"), dir.File("secret.txt"));
        File.CreateSymbolicLink(Path.Combine(root, "run", "dev"), "/dev/zero");
        Directory.CreateDirectory(dir.File("outside"));
        File.WriteAllText(dir.File("outside/f.txt"), "SECRET");
        Directory.CreateSymbolicLink(Path.Combine(root, "via"), dir.File("outside"));

        using (var ok = InputFile.OpenInside(root, Path.Combine(root, "run", "ok.txt"), out _)) Assert.NotNull(ok);
        Assert.Null(InputFile.OpenInside(root, Path.Combine(root, "run", "link.txt"), out string? why));
        Assert.Contains("symbolic link", why);
        Assert.Null(InputFile.OpenInside(root, Path.Combine(root, "run", "dev"), out why));
        Assert.Null(InputFile.OpenInside(root, Path.Combine(root, "via", "f.txt"), out why));
        Assert.Contains("outside", why);
    }
}
