using System.Reflection;

namespace Nabla.Tests.Architecture;

/// <summary>
/// The public surface is a reviewed decision: every public type and member of the library (and of the CUDA and MPI packages) is
/// listed in <c>PublicApi.txt</c> beside this file, and any change to the surface — a member added, removed, renamed, or
/// made public by accident — fails this test until the list is updated in the same change (set
/// NABLA_UPDATE_PUBLIC_API=1 to rewrite it, then review the diff). Kernels, update rules and engine internals are
/// internal; the library, the tests, the benchmarks, the CLI and the CUDA backend see them through InternalsVisibleTo.
/// </summary>
public class PublicApiTests
{
    private static readonly Assembly[] Packages =
        [typeof(Nabla.Tensors.Tensor).Assembly, typeof(Nabla.Cuda.CudaBackend).Assembly, typeof(Nabla.Distributed.MpiWorld).Assembly];

    /// <summary>One line per public type and per public or protected member, sorted: what a user can compile against.</summary>
    internal static List<string> Surface()
    {
        var lines = new List<string>();
        foreach (var type in Packages.SelectMany(a => a.GetExportedTypes()))
        {
            string name = Name(type);
            lines.Add($"{Kind(type)} {name}{Bases(type)}");
            const BindingFlags flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var m in type.GetMembers(flags))
            {
                if (!Visible(m) || m is Type || m is MethodInfo { IsSpecialName: true } && !m.Name.StartsWith("op_", StringComparison.Ordinal)) continue;
                if (type.IsEnum && m is FieldInfo { IsSpecialName: true }) continue;
                if (m.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is not null) continue;
                lines.Add($"{name}::{Member(m)}");
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static bool Visible(MemberInfo m) => m switch
    {
        MethodBase b => b.IsPublic || b.IsFamily || b.IsFamilyOrAssembly,
        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        PropertyInfo p => p.GetAccessors(true).Any(Visible),
        EventInfo e => e.AddMethod is { } add && Visible(add),
        _ => false,
    };

    private static string Kind(Type t) => t.IsEnum ? "enum" : t.IsInterface ? "interface" : t.IsValueType ? "struct" : t.IsAbstract && t.IsSealed ? "static class" : t.IsAbstract ? "abstract class" : "class";

    private static string Bases(Type t)
    {
        var bases = new List<string>();
        if (t.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum)) bases.Add(Name(b));
        bases.AddRange(t.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(Name).Order(StringComparer.Ordinal));
        return bases.Count == 0 ? "" : " : " + string.Join(", ", bases);
    }

    private static string Name(Type t)
    {
        if (t.IsGenericParameter) return t.Name;
        if (t.IsArray) return Name(t.GetElementType()!) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        if (t.IsByRef) return Name(t.GetElementType()!) + "&";
        string name = t.IsNested ? Name(t.DeclaringType!) + "." + t.Name : (t.Namespace is null ? "" : t.Namespace + ".") + t.Name;
        int tick = name.IndexOf('`');
        if (tick >= 0) name = name[..tick];
        return t.IsGenericType ? $"{name}<{string.Join(", ", t.GetGenericArguments().Select(Name))}>" : name;
    }

    private static string Member(MemberInfo m) => m switch
    {
        ConstructorInfo c => $"{(c.IsStatic ? "static " : "")}.ctor({Parameters(c)})",
        MethodInfo mi => $"{(mi.IsStatic ? "static " : "")}{(mi.IsAbstract ? "abstract " : mi.IsVirtual && !mi.IsFinal ? "virtual " : "")}{mi.Name}{(mi.IsGenericMethod ? $"<{string.Join(", ", mi.GetGenericArguments().Select(Name))}>" : "")}({Parameters(mi)}) -> {Name(mi.ReturnType)}",
        PropertyInfo p => $"{p.Name} : {Name(p.PropertyType)} {{{(p.GetMethod is { } g && Visible(g) ? " get;" : "")}{(p.SetMethod is { } s && Visible(s) ? (s.ReturnParameter.GetRequiredCustomModifiers().Any(x => x.Name == "IsExternalInit") ? " init;" : " set;") : "")} }}",
        FieldInfo f => $"{(f.IsStatic ? "static " : "")}{(f.IsLiteral ? "const " : f.IsInitOnly ? "readonly " : "")}{f.Name} : {Name(f.FieldType)}",
        EventInfo e => $"event {e.Name} : {Name(e.EventHandlerType!)}",
        _ => m.Name,
    };

    private static string Parameters(MethodBase m) =>
        string.Join(", ", m.GetParameters().Select(p => $"{(p.IsOut ? "out " : p.ParameterType.IsByRef ? "ref " : "")}{Name(p.ParameterType)} {p.Name}{(p.HasDefaultValue ? " = …" : "")}"));

    private static string BaselinePath([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "PublicApi.txt");

    [Fact]
    public void ThePublicSurface_IsTheReviewedOne()
    {
        var now = Surface();
        string path = BaselinePath();
        if (Environment.GetEnvironmentVariable("NABLA_UPDATE_PUBLIC_API") == "1") File.WriteAllLines(path, now);
        var baseline = File.ReadAllLines(path).ToList();
        var added = now.Except(baseline).ToList();
        var removed = baseline.Except(now).ToList();
        Assert.True(added.Count == 0 && removed.Count == 0,
            $"The public surface changed; review it and update {path} (NABLA_UPDATE_PUBLIC_API=1).\nAdded:\n  {string.Join("\n  ", added.Take(40))}\nRemoved:\n  {string.Join("\n  ", removed.Take(40))}");
    }

    [Fact]
    public void KernelsRulesAndEngineInternals_AreNotPublic()
    {
        var core = typeof(Nabla.Tensors.Tensor).Assembly.GetExportedTypes();
        Assert.DoesNotContain(core, t => t.Namespace is "Nabla.Tensors.Kernels" or "Nabla.Optim.Rules");
    }
}
