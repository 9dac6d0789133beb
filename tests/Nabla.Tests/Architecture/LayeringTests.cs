using System.Reflection;
using NetArchTest.Rules;

namespace Nabla.Tests.Architecture;

/// <summary>
/// The library's layers point one way: a lower layer never references a higher one. Each rule reads the
/// compiled IL (NetArchTest, through Mono.Cecil): fields, signatures, method bodies and attributes.
/// </summary>
public class LayeringTests
{
    private static readonly Assembly Core = typeof(Nabla.Tensors.Tensor).Assembly;
    private static readonly Assembly Cuda = typeof(Nabla.Cuda.CudaBackend).Assembly;

    /// <summary>Every namespace of the core library, lowest first.</summary>
    private static readonly string[] Above =
        ["Nabla.Autograd", "Nabla.Backprop", "Nabla.NN", "Nabla.Losses", "Nabla.Optim", "Nabla.Data", "Nabla.Training", "Nabla.IO", "Nabla.Cli", "Nabla.Cuda"];

    private static void Check(Assembly assembly, string layer, params string[] forbidden)
    {
        var result = Types.InAssembly(assembly).That().ResideInNamespace(layer)
            .ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        Assert.True(result.IsSuccessful,
            $"{layer} references a higher layer ({string.Join(", ", forbidden)}): {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Devices_and_Compute_use_nothing_above_them()
    {
        Check(Core, "Nabla.Devices", ["Nabla.Tensors", "Nabla.Compute", .. Above]);
        Check(Core, "Nabla.Compute", ["Nabla.Tensors", "Nabla.Devices", .. Above]);
    }

    [Fact]
    public void Tensors_use_only_Devices_and_Compute() => Check(Core, "Nabla.Tensors", Above);

    [Fact]
    public void Autograd_uses_no_model_data_or_training_layer() =>
        Check(Core, "Nabla.Autograd", "Nabla.Backprop", "Nabla.NN", "Nabla.Losses", "Nabla.Optim", "Nabla.Data", "Nabla.Training", "Nabla.IO", "Nabla.Cli", "Nabla.Cuda");

    [Fact]
    public void Backprop_uses_no_Autograd() => Check(Core, "Nabla.Backprop", "Nabla.Autograd", "Nabla.NN", "Nabla.Training", "Nabla.IO", "Nabla.Cli");

    [Fact]
    public void Data_uses_no_NN() => Check(Core, "Nabla.Data", "Nabla.NN", "Nabla.Losses", "Nabla.Optim", "Nabla.Training", "Nabla.Cli", "Nabla.Cuda");

    [Fact]
    public void The_library_uses_no_CLI_and_no_backend()
    {
        var result = Types.InAssembly(Core).ShouldNot().HaveDependencyOnAny("Nabla.Cli", "Nabla.Cuda", "System.CommandLine", "Spectre.Console").GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void Cuda_uses_contracts_not_concrete_layer_classes()
    {
        string[] layers = ["Nabla.NN.Linear", "Nabla.NN.Sigmoid", "Nabla.NN.Tanh", "Nabla.NN.Relu", "Nabla.NN.Dropout", "Nabla.NN.Flatten", "Nabla.NN.Softmax", "Nabla.NN.Activation"];
        var result = Types.InAssembly(Cuda).ShouldNot().HaveDependencyOnAny(layers).GetResult();
        Assert.True(result.IsSuccessful, "Nabla.Cuda references layer classes: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void The_rules_can_fail()
    {
        // A rule that must be broken: NN does use Tensors. Guards against a rule engine that sees no dependency at all.
        var result = Types.InAssembly(Core).That().ResideInNamespace("Nabla.NN").ShouldNot().HaveDependencyOn("Nabla.Tensors").GetResult();
        Assert.False(result.IsSuccessful);
    }
}
