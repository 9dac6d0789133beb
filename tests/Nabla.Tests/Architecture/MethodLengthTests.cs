using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Nabla.Tests.Architecture;

/// <summary>
/// The command-line tool parses and prints; the work is the library's. Its methods stay short enough to read at a
/// glance: every method, constructor, accessor and local function in <c>src/Nabla.Cli</c> is at most
/// <see cref="MaxLines"/> lines, counted by Roslyn's syntax tree from its first line to its closing brace.
/// </summary>
public class MethodLengthTests
{
    private const int MaxLines = 60;

    /// <summary>The repository's root, found upwards from the test binary.</summary>
    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "test.sh"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Each member of <paramref name="folder"/> longer than <paramref name="max"/> lines, as "file:line name (n lines)".</summary>
    internal static List<string> LongMembers(string folder, int max)
    {
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) continue;
            var tree = CSharpSyntaxTree.ParseText(File.ReadAllText(file), path: file);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                if (node is not (BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or LocalFunctionStatementSyntax)) continue;
                var span = node.GetLocation().GetLineSpan();
                int lines = span.EndLinePosition.Line - span.StartLinePosition.Line + 1;
                if (lines > max)
                    found.Add($"{Path.GetRelativePath(RepoRoot(), file)}:{span.StartLinePosition.Line + 1} {Name(node)} ({lines} lines)");
            }
        }
        return found;
    }

    private static string Name(SyntaxNode node) => node switch
    {
        MethodDeclarationSyntax m => m.Identifier.Text,
        ConstructorDeclarationSyntax c => c.Identifier.Text + " (constructor)",
        LocalFunctionStatementSyntax l => l.Identifier.Text + " (local function)",
        AccessorDeclarationSyntax a => a.Keyword.Text + " accessor",
        _ => node.Kind().ToString(),
    };

    [Fact]
    public void NoCliMethod_IsLongerThanSixtyLines()
    {
        var longOnes = LongMembers(Path.Combine(RepoRoot(), "src", "Nabla.Cli"), MaxLines);
        Assert.True(longOnes.Count == 0, $"methods over {MaxLines} lines in src/Nabla.Cli:\n{string.Join('\n', longOnes)}");
    }

    [Fact]
    public void TheCount_SeesALongMethod()
    {
        // The check must be able to fail: a 70-line method in a scratch folder is reported.
        string dir = Directory.CreateTempSubdirectory("nabla-len").FullName;
        try
        {
            var body = string.Join('\n', Enumerable.Range(0, 67).Select(i => $"        int v{i} = {i};"));
            File.WriteAllText(Path.Combine(dir, "Long.cs"), $"class C\n{{\n    void Long()\n    {{\n{body}\n    }}\n    void Short() {{ }}\n}}\n");
            var found = LongMembers(dir, MaxLines);
            Assert.Single(found);
            Assert.Contains("Long (70 lines)", found[0]);
        }
        finally { Directory.Delete(dir, true); }
    }
}
