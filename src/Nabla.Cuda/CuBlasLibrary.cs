using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;

namespace Nabla.Cuda;

/// <summary>
/// Points ILGPU.Algorithms' cuBLAS binding at the cuBLAS that is installed. ILGPU 1.5.3 imports
/// <c>libcublas.so.12</c> (or .11/.10) by exact name, while CUDA 13 machines ship <c>libcublas.so.13</c> with the
/// same C API for the calls we make (sgemm, handle, stream, pointer and math modes); this resolver tries the
/// newest first. Written by hand because no package does this for ILGPU.
/// </summary>
internal static class CuBlasLibrary
{
    private static readonly string[] Candidates = ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so", "cublas64_13", "cublas64_12"];
    private static int _installed;

    /// <summary>Installs the resolver on ILGPU.Algorithms (once per process).</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(CuBlas).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (!name.Contains("cublas", StringComparison.OrdinalIgnoreCase)) return IntPtr.Zero;
        foreach (var candidate in Candidates)
        {
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
            foreach (var dir in SearchDirectories())
                if (NativeLibrary.TryLoad(Path.Combine(dir, candidate), out handle)) return handle;
        }
        return IntPtr.Zero; // let the runtime report the original name
    }

    private static IEnumerable<string> SearchDirectories()
    {
        foreach (var root in new[] { Environment.GetEnvironmentVariable("CUDA_HOME"), Environment.GetEnvironmentVariable("CUDA_PATH") })
            if (!string.IsNullOrEmpty(root)) yield return Path.Combine(root, "lib64");
        if (Directory.Exists("/usr/local"))
            foreach (var dir in Directory.EnumerateDirectories("/usr/local", "cuda*").OrderDescending())
                yield return Path.Combine(dir, "lib64");
    }
}
