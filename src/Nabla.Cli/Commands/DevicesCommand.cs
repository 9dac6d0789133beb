using System.CommandLine;
using System.Runtime.Intrinsics;
using System.Text.Json.Nodes;
using Nabla.Cuda;

namespace Nabla.Cli.Commands;

/// <summary>
/// <c>nabla devices [--check]</c>: what <c>--device auto</c> would pick and why; with <c>--check</c>, runs the CUDA
/// backend's kernels and training engine against the CPU (<see cref="CudaSelfTest"/>) and fails on a mismatch.
/// </summary>
internal static class DevicesCommand
{
    public static Command Create(TextWriter stdout)
    {
        var check = new Option<bool>("--check") { Description = "Compare the CUDA kernels and training engine with the CPU (exit 1 on a mismatch)" };
        var json = CommonOptions.Json();
        var cmd = new Command("devices", "List the compute devices, and check the GPU against the CPU") { check, json };
        cmd.SetAction(r => Run(r.GetValue(check), r.GetValue(json), stdout));
        return cmd;
    }

    private static int Run(bool check, bool json, TextWriter o)
    {
        string cpu = $"cpu: {Environment.ProcessorCount} threads, {(Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : "no SIMD")}";
        string reason = "";
        // Its own context: the device it opens to look is registered there, and gone with it.
        using var context = Compute.ComputeContext.Begin(new Compute.ComputeSettings { Threads = 1, SimulateCuda = RunSetup.Simulating });
        using var gpu = RunSetup.Simulating ? CudaBackend.OpenSimulator()
            : CudaBackend.TryOpen(0, out var opened, out reason) ? opened : null; // one CUDA start, not a probe and an open
        bool cuda = gpu is not null;
        var result = new JsonObject { ["cpu"] = cpu, ["cuda_available"] = cuda, ["auto"] = cuda ? "cuda:0" : "cpu" };
        if (!json)
        {
            o.WriteLine(cpu);
            o.WriteLine(cuda ? "cuda: available" : $"cuda: not available ({reason})");
            o.WriteLine($"--device auto picks {(cuda ? "cuda:0" : "cpu")}");
        }
        else if (!cuda) result["cuda_reason"] = reason;
        int code = 0;
        if (gpu is not null)
        {
            result["cuda"] = gpu.Description;
            if (!json) o.WriteLine($"cuda:0: {gpu.Description}");
            if (check)
            {
                var checks = new JsonArray();
                foreach (var t in CudaSelfTest.Run(gpu))
                {
                    if (!t.Passed) code = 1;
                    checks.Add(new JsonObject { ["check"] = t.Name, ["max_rel_error"] = t.MaxRelativeError, ["tolerance"] = t.Tolerance, ["passed"] = t.Passed });
                    if (!json) o.WriteLine($"  {(t.Passed ? "ok  " : "FAIL")}  {t.Name}: max relative error {t.MaxRelativeError:E2} (≤ {t.Tolerance:E0})");
                }
                result["checks"] = checks;
                result["passed"] = code == 0;
                if (!json) o.WriteLine(code == 0 ? "All checks passed." : "Some checks FAILED: the GPU results differ from the CPU's.");
            }
        }
        else if (check) throw new UsageException($"--check needs a CUDA device: {reason}.");
        if (json) o.WriteLine(result.ToJsonString());
        return code;
    }
}
