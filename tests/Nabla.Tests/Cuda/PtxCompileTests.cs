using System.Reflection;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Nabla.Tests.Cuda;

/// <summary>
/// Every CUDA kernel compiles to PTX, on any machine: ILGPU's PTX backend needs no GPU and no driver. The simulator
/// tests run the kernels' .NET code on the CPU accelerator, which never goes through ILGPU's IL frontend; this test
/// does, for the architecture of the oldest GPU we target and for Hopper, so a construct the GPU compiler rejects
/// (say, a managed call inside a shared optimizer rule) fails here rather than on a lent GPU.
/// </summary>
public class PtxCompileTests
{
    /// <summary>The kernels that take an explicit group configuration (LoadStreamKernel); the rest take an Index1D.</summary>
    private static readonly string[] ExplicitlyGrouped = ["ElementwiseKernels.Sum", "GemmKernels.Tiled"];

    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (var m in KernelMethods()) data.Add(m.DeclaringType!.Name + "." + m.Name);
        return data;
    }

    private static IEnumerable<MethodInfo> KernelMethods() =>
        typeof(Nabla.Cuda.CudaBackend).Assembly.GetTypes()
            .Where(t => t.Namespace == "Nabla.Cuda.Kernels")
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.ReturnType == typeof(void) && m.GetParameters() is { Length: > 0 } ps
                && (ps[0].ParameterType == typeof(Index1D) || ExplicitlyGrouped.Contains(m.DeclaringType!.Name + "." + m.Name)));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Kernel_compiles_to_ptx(string name)
    {
        var method = KernelMethods().Single(m => m.DeclaringType!.Name + "." + m.Name == name);
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        foreach (var (arch, isa) in new[] { (CudaArchitecture.SM_70, CudaInstructionSet.ISA_70), (CudaArchitecture.SM_90, CudaInstructionSet.ISA_80) })
        {
            using var backend = new PTXBackend(context, new CudaCapabilityContext(arch), arch, isa, null);
            var entry = ExplicitlyGrouped.Contains(name)
                ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
                : EntryPointDescription.FromImplicitlyGroupedKernel(method);
            var kernel = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            Assert.Contains(".entry", kernel.PTXAssembly);
            // A .NET method ILGPU cannot lower becomes an external function that the driver cannot link at load time.
            Assert.DoesNotContain(".extern .func", kernel.PTXAssembly);
        }
    }

    [Fact]
    public void Every_training_kernel_is_covered() =>
        Assert.True(KernelMethods().Count() >= 18, $"found {KernelMethods().Count()} kernels: " + string.Join(", ", KernelMethods().Select(m => m.Name)));
}
