using System.Reflection;
using NetArchTest.Rules;

namespace Nabla.Tests.Architecture;

/// <summary>
/// The library's layers point one way, and every folder has a rule: the namespaces of the solution it may use, all
/// others forbidden. Each rule reads the compiled IL (NetArchTest.eNhancedEdition, through Mono.Cecil): fields,
/// signatures, method bodies and attributes; a failure names the type and why (<c>Explanation</c>).
/// </summary>
public class LayeringTests
{
    private static readonly Assembly Core = typeof(Nabla.Tensors.Tensor).Assembly;
    private static readonly Assembly Cli = typeof(Nabla.Cli.Program).Assembly;
    private static readonly Assembly Cuda = typeof(Nabla.Cuda.CudaBackend).Assembly;
    private static readonly Assembly Distributed = typeof(Nabla.Distributed.MpiWorld).Assembly;

    /// <summary>Every namespace of the solution that a rule can allow or forbid.</summary>
    private static readonly string[] All =
    [
        "Nabla.Compute", "Nabla.Devices", "Nabla.Tensors", "Nabla.Autograd", "Nabla.Backprop", "Nabla.Data", "Nabla.NN",
        "Nabla.Losses", "Nabla.Optim", "Nabla.IO", "Nabla.Training", "Nabla.Cli", "Nabla.Cuda", "Nabla.Distributed",
    ];

    /// <summary>
    /// Each folder of the core library, lowest first, with what it may use (beyond itself). Compute's context holds
    /// the device backends' registry; Data (files, readers,
    /// loaders, a table's preprocessing) needs only tensors and the worker pool; NN takes a table's preprocessing from
    /// Data for its first layer; Optim listens to NN's gradient sink; IO reads and writes models, so it sees NN and
    /// Data; Training ties everything below together.
    /// </summary>
    public static TheoryData<string, string[]> CoreRules => new()
    {
        { "Nabla.Devices", [] },
        { "Nabla.Compute", ["Nabla.Devices"] },
        { "Nabla.Tensors", ["Nabla.Devices", "Nabla.Compute"] },
        { "Nabla.Autograd", ["Nabla.Tensors", "Nabla.Devices", "Nabla.Compute"] },
        { "Nabla.Backprop", ["Nabla.Tensors"] },
        { "Nabla.Data", ["Nabla.Tensors", "Nabla.Compute"] },
        { "Nabla.NN", ["Nabla.Tensors", "Nabla.Autograd", "Nabla.Devices", "Nabla.Compute", "Nabla.Data"] },
        { "Nabla.Losses", ["Nabla.Tensors", "Nabla.Autograd", "Nabla.Devices", "Nabla.Compute"] },
        { "Nabla.Optim", ["Nabla.Tensors", "Nabla.Compute", "Nabla.Devices", "Nabla.NN"] },
        { "Nabla.IO", ["Nabla.Tensors", "Nabla.Devices", "Nabla.Compute", "Nabla.NN", "Nabla.Data"] },
        { "Nabla.Training", ["Nabla.Tensors", "Nabla.Autograd", "Nabla.Devices", "Nabla.Compute", "Nabla.NN", "Nabla.Losses", "Nabla.Optim", "Nabla.Data", "Nabla.IO"] },
    };

    /// <summary>The types of <paramref name="layer"/> that use a namespace outside <paramref name="allowed"/>, each with why.</summary>
    private static IReadOnlyList<string> Violations(Assembly assembly, string layer, IEnumerable<string> allowed)
    {
        var forbidden = All.Where(n => n != layer && !allowed.Contains(n) && !layer.StartsWith(n + ".", StringComparison.Ordinal)).ToArray();
        var result = Types.InAssembly(assembly).That().ResideInNamespace(layer).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        return result.IsSuccessful ? [] : [.. result.FailingTypes.Select(t => $"{t.FullName}: {t.Explanation}")];
    }

    [Theory]
    [MemberData(nameof(CoreRules))]
    public void EachCoreFolder_UsesOnlyWhatItsRuleAllows(string layer, string[] allowed)
    {
        var bad = Violations(Core, layer, allowed);
        Assert.True(bad.Count == 0, $"{layer} uses what its rule forbids:\n{string.Join('\n', bad)}");
    }

    [Fact]
    public void EveryCoreFolder_HasARule()
    {
        var covered = CoreRules.Select(r => (string)r[0]).ToHashSet();
        var namespaces = Core.GetTypes().Select(t => t.Namespace).Where(n => n is not null && n.StartsWith("Nabla.", StringComparison.Ordinal))
            .Select(n => string.Join('.', n!.Split('.').Take(2))).Distinct();
        Assert.DoesNotContain(namespaces, n => !covered.Contains(n!));
    }

    [Fact]
    public void TheCli_Dashboard_UsesNoCommand_AndTheCommandsAreAboveIt()
    {
        var bad = Violations(Cli, "Nabla.Cli.Dashboard", [.. All.Where(n => n != "Nabla.Cli"), "Nabla.Cli"]);
        Assert.Empty(bad); // the Dashboard may use the rest of the CLI's helpers …
        var result = Types.InAssembly(Cli).That().ResideInNamespace("Nabla.Cli.Dashboard").ShouldNot().HaveDependencyOnAny("Nabla.Cli.Commands").GetResult();
        Assert.True(result.IsSuccessful, "Nabla.Cli.Dashboard uses a command: " + string.Join(", ", result.FailingTypes?.Select(t => t.FullName) ?? []));
    }

    [Fact]
    public void TheLibrary_UsesNoCli_NoBackend_NoCommandLinePackages()
    {
        var result = Types.InAssembly(Core).ShouldNot().HaveDependencyOnAny("Nabla.Cli", "Nabla.Cuda", "Nabla.Distributed", "System.CommandLine", "Spectre.Console").GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypes?.Select(t => t.FullName) ?? []));
    }

    [Fact]
    public void Distributed_SitsBesideTheBackends_UsingTheLibraryOnly()
    {
        // MPI is a device of its own kind: it builds on the library's training contract, as the CUDA backend does, and
        // neither it nor the library sees the other backend or the command line.
        var bad = Violations(Distributed, "Nabla.Distributed", [.. All.Where(n => n is not ("Nabla.Cli" or "Nabla.Cuda"))]);
        Assert.True(bad.Count == 0, string.Join('\n', bad));
        Assert.NotEmpty(Violations(Distributed, "Nabla.Distributed", [])); // and the rule can fail: it does use Training
    }

    [Fact]
    public void Cuda_UsesContracts_NotConcreteLayerClasses()
    {
        string[] layers = ["Nabla.NN.Linear", "Nabla.NN.Sigmoid", "Nabla.NN.Tanh", "Nabla.NN.Relu", "Nabla.NN.Dropout", "Nabla.NN.Flatten", "Nabla.NN.Softmax",
            "Nabla.NN.Activation", "Nabla.NN.ColumnTransformer", "Nabla.NN.Rescaling"];
        var result = Types.InAssembly(Cuda).ShouldNot().HaveDependencyOnAny(layers).GetResult();
        Assert.True(result.IsSuccessful, "Nabla.Cuda references layer classes: " + string.Join(", ", result.FailingTypes?.Select(t => t.FullName) ?? []));
    }

    [Fact]
    public void TheRules_CanFail()
    {
        // Deliberate violations the rules must see: NN does use Tensors, and Training uses Optim. Were the engine blind
        // to dependencies, every rule above would pass vacuously.
        Assert.NotEmpty(Violations(Core, "Nabla.NN", []));
        Assert.Contains(Violations(Core, "Nabla.Training", ["Nabla.Tensors", "Nabla.NN"]), v => v.Contains("Nabla.Optim", StringComparison.Ordinal));
    }
}
