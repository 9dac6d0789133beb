using System.Diagnostics;
using System.Text.Json;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Cli;

/// <summary>
/// scripts/pack builds the packages into artifacts/, and the command-line tool installs from there as a .NET tool
/// whose command is <c>nabla</c>, and runs.
/// </summary>
[Collection("Serial")]
public class PackageTests
{
    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Nabla.sln"))) return d.FullName;
        throw new InvalidOperationException("The repository root (Nabla.sln) is not above the test binaries.");
    }

    private static (int Code, string Out, string Err) Sh(string file, string args, string cwd)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), $"{file} {args} did not finish");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Pack_ThenInstallTheTool_NablaBackpropRuns()
    {
        string root = RepoRoot();
        var pack = Sh("bash", "scripts/pack", root);
        Assert.True(pack.Code == 0, pack.Out + pack.Err);
        string artifacts = Path.Combine(root, "artifacts");
        foreach (var id in new[] { "Nabla", "Nabla.Cuda", "Nabla.Cli" })
            Assert.True(File.Exists(Path.Combine(artifacts, $"{id}.0.1.0.nupkg")), $"{id} package missing");

        using var tools = new TempDir();
        var install = Sh("dotnet", $"tool install Nabla.Cli --tool-path \"{tools.Path}\" --add-source \"{artifacts}\" --version 0.1.0", root);
        Assert.True(install.Code == 0, install.Out + install.Err);
        var run = Sh(Path.Combine(tools.Path, "nabla"), "backprop --json", tools.Path);
        Assert.True(run.Code == 0, run.Err);
        using var doc = JsonDocument.Parse(run.Out.Trim().Split('\n')[^1]);
        Assert.Equal(0.2084, doc.RootElement.GetProperty("loss").GetDouble(), 4);
        var help = Sh(Path.Combine(tools.Path, "nabla"), "--help", tools.Path);
        Assert.Contains("nabla [command]", help.Out);
    }

    [Fact]
    public void Packages_CarryLicenseReadmeAndDescription()
    {
        string root = RepoRoot();
        string artifacts = Path.Combine(root, "artifacts");
        if (!File.Exists(Path.Combine(artifacts, "Nabla.0.1.0.nupkg")))
            Assert.Equal(0, Sh("bash", "scripts/pack", root).Code);
        using var zip = System.IO.Compression.ZipFile.OpenRead(Path.Combine(artifacts, "Nabla.0.1.0.nupkg"));
        Assert.Contains(zip.Entries, e => e.FullName == "README.md");
        Assert.Contains(zip.Entries, e => e.FullName == "LICENSE");
        using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        string xml = nuspec.ReadToEnd();
        Assert.Contains("<license type=\"expression\">MIT</license>", xml);
        Assert.Contains("<readme>README.md</readme>", xml);
        Assert.DoesNotContain("Package Description", xml);
        Assert.Contains("<repository type=\"git\"", xml);
    }
}
