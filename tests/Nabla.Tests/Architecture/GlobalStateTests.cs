using System.Reflection;
using Nabla.Compute;

namespace Nabla.Tests.Architecture;

/// <summary>
/// Settings are an object's, not the process's: no type of the library, the CUDA package or the CLI has a static
/// field or property that code outside it could assign (what a test once did to <c>WorkerPool.Default</c>,
/// <c>Gemm.Provider</c>, <c>GemmMicroKernel.UseAvx512</c> and <c>Optimizer.MaxLaneWidth</c>). The threads, the GEMM,
/// the SIMD width, the CUDA simulator and the device backends are a <see cref="ComputeContext"/>'s.
/// </summary>
public class GlobalStateTests
{
    private static readonly Assembly[] Assemblies =
        [typeof(Nabla.Tensors.Tensor).Assembly, typeof(Nabla.Cuda.CudaBackend).Assembly, typeof(Nabla.Cli.Program).Assembly];

    /// <summary>Static members that code outside their type can assign, as "Type.Member".</summary>
    internal static List<string> AssignableStatics(IEnumerable<Assembly> assemblies)
    {
        const BindingFlags flags = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var found = new List<string>();
        foreach (var type in assemblies.SelectMany(a => a.GetTypes()))
        {
            if (type.Name.Contains('<') || type.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute))) continue; // lambdas' caches
            foreach (var f in type.GetFields(flags))
                if (!f.IsInitOnly && !f.IsLiteral && !f.IsPrivate && !f.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)))
                    found.Add($"{type.FullName}.{f.Name}");
            foreach (var p in type.GetProperties(flags))
                if (p.SetMethod is { IsPrivate: false }) found.Add($"{type.FullName}.{p.Name}");
        }
        return found;
    }

    [Fact]
    public void NoStaticCanBeAssignedFromOutsideItsType()
    {
        var found = AssignableStatics(Assemblies);
        Assert.True(found.Count == 0, "static state a caller could assign (make it a ComputeContext setting):\n" + string.Join('\n', found));
    }

    [Fact]
    public void TheCheck_SeesAnAssignableStatic() =>
        Assert.Contains($"{typeof(Settable).FullName}.{nameof(Settable.Value)}", AssignableStatics([typeof(Settable).Assembly]));

    private static class Settable
    {
        internal static int Value { get; set; }
    }

    [Fact]
    public void AContext_IsCurrentUntilDisposed_AndThenTheOneBefore()
    {
        var outer = ComputeContext.Current;
        using (var a = ComputeContext.Begin(new ComputeSettings { Threads = 1, MaxVectorWidth = 1 }))
        {
            Assert.Same(a, ComputeContext.Current);
            Assert.Equal(1, a.VectorWidth);
            using (var b = ComputeContext.Begin(new ComputeSettings { Threads = 2 }))
            {
                Assert.Same(b, ComputeContext.Current);
                Assert.Equal(2, ComputeContext.Current.Pool.Threads);
            }
            Assert.Same(a, ComputeContext.Current);
        }
        Assert.Same(outer, ComputeContext.Current);
    }

    [Fact]
    public async Task AContext_IsNotSeenByAnotherFlow()
    {
        // Parallel tests each begin their own: a context begun in one flow is invisible in another.
        var before = ComputeContext.Current;
        using var started = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var other = Task.Run(async () =>
        {
            using var mine = ComputeContext.Begin(new ComputeSettings { Threads = 1 });
            started.Release();
            await release.WaitAsync();
            return ReferenceEquals(ComputeContext.Current, mine);
        });
        await started.WaitAsync();
        Assert.Same(before, ComputeContext.Current);
        release.Release();
        Assert.True(await other);
    }
}
