using System.Diagnostics;
using System.Text.Json;
using Nabla.Distributed;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Distributed;

/// <summary>
/// <c>mpiexec.mpich -n N nabla train …</c> on 127.0.0.1: one job whose trained weights, losses and accuracies are the
/// bits of the plain one-process run for 1, 2, 3 and 4 processes (the input read by each or gathered, the gradients'
/// gathers overlapped or not); one output; a batch smaller than the job, mismatched flags and other commands refused; a process killed ends the job, and its
/// checkpoint resumed with another count ends bitwise where the uninterrupted run does.
/// test.sh installs MPICH (scripts/ensure-mpich); without it these tests are skipped and say so.
/// </summary>
[Collection("Serial")] // several processes per test: alone, they fit the machine
public sealed class MpiTests : IDisposable
{
    private const string Mpiexec = "/usr/bin/mpiexec.mpich";
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "Nabla.Cli.dll");
    private readonly TempDir _dir = new();

    public MpiTests()
    {
        var rng = new Nabla.Tensors.Rng(1);
        foreach (var (name, rows) in new[] { ("t_train.csv", 240), ("t_test.csv", 60) })
        {
            var lines = new List<string> { "label," + string.Join(',', Enumerable.Range(0, 10).Select(i => $"f{i}")) };
            for (int r = 0; r < rows; r++)
                lines.Add($"{r % 3}," + string.Join(',', Enumerable.Range(0, 10).Select(i => ((i % 3 == r % 3 ? 1.0 : 0.0) + rng.NextGaussian()).ToString("F4", System.Globalization.CultureInfo.InvariantCulture))));
            File.WriteAllLines(_dir.File(name), lines);
        }
    }

    public void Dispose() => _dir.Dispose();

    private string[] Flags(int epochs) =>
        ["train", "--data", _dir.Path, "--label-column", "label", "--hidden", "16", "--dropout", "0.2", "--tol", "0", "--batch-size", "32",
            "--optimizer", "adam", "--lr", "0.01", "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--threads", "1"];

    private static (int Code, string Out, string Err) Mpi(int n, IEnumerable<string> args, Action<Process>? whileRunning = null, int timeoutSeconds = 120,
        Dictionary<string, string>? environment = null)
    {
        Skip.IfNot(File.Exists(Mpiexec), "MPICH is not installed (test.sh installs it: scripts/ensure-mpich).");
        var start = new ProcessStartInfo(Mpiexec) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment ?? []) start.Environment[name] = value;
        foreach (var a in new[] { "-n", n.ToString(System.Globalization.CultureInfo.InvariantCulture), "dotnet", Cli }.Concat(args)) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        whileRunning?.Invoke(p);
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"mpiexec -n {n} did not end within {timeoutSeconds} s.");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [SkippableFact]
    public void OneToFourProcesses_TrainThePlainRunsBits_AndPrintOnce()
    {
        Skip.IfNot(File.Exists(Mpiexec), "MPICH is not installed (test.sh installs it: scripts/ensure-mpich).");
        string plainSave = _dir.File("plain.safetensors");
        var (plainCode, plainOut, plainErr) = Plain([.. Flags(3), "--save", plainSave, "--json"]);
        Assert.True(plainCode == 0, plainErr);
        string expected = Results(plainOut);
        var plain = File.ReadAllBytes(plainSave);
        // 240 rows in batches of 32: the last has 16; 3 processes share 32 rows as 10/11/11 and 16 hidden units as 5/5/6.
        foreach (var (n, setting) in new[] { (1, ""), (2, ""), (3, ""), (4, ""), (3, "NABLA_MPI_GATHER_INPUT=1"), (2, "NABLA_MPI_OVERLAP=0"), (2, "NABLA_MPI_SHARED=0") })
        {
            string save = _dir.File($"m{n}{setting}.safetensors");
            var environment = setting == "" ? null : new Dictionary<string, string> { [setting.Split('=')[0]] = setting.Split('=')[1] };
            var (code, output, err) = Mpi(n, [.. Flags(3), "--save", save, "--json"], environment: environment);
            Assert.True(code == 0, $"-n {n}: exit {code}: {err}");
            Assert.Single(output.Split('\n'), l => l.StartsWith("Test accuracy", StringComparison.Ordinal)); // rank 0 alone prints
            Assert.Contains($"MPI: {n} process", output);
            using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
            Assert.Equal(n, json.RootElement.GetProperty("mpi").GetProperty("processes").GetInt32());
            Assert.Equal(setting != "NABLA_MPI_OVERLAP=0", json.RootElement.GetProperty("mpi").GetProperty("overlapped").GetBoolean());
            // One host: the processes share the step's buffers, and the parameters when each updates its own rows in
            // place; NABLA_MPI_SHARED=0 takes the path of a job over several hosts (rows copied by MPI).
            bool shared = n > 1 && setting != "NABLA_MPI_SHARED=0";
            Assert.Equal(shared, json.RootElement.GetProperty("mpi").GetProperty("shared_memory").GetBoolean());
            Assert.Equal(shared && setting != "NABLA_MPI_OVERLAP=0", json.RootElement.GetProperty("mpi").GetProperty("shared_parameters").GetBoolean());
            // More processes than this host's cores: one line says MPICH's spinning waits will slow the job (none otherwise).
            Assert.Equal(n > Environment.ProcessorCount, output.Contains($"MPI: {n} processes share {Environment.ProcessorCount} cores on this host", StringComparison.Ordinal));
            Assert.Equal(expected, Results(output));
            Assert.True(plain.AsSpan().SequenceEqual(File.ReadAllBytes(save)), $"-n {n} {setting}: the model differs from the plain run's");
        }
    }

    /// <summary>Everything but the timings, to the last digit printed: test loss and accuracy, each epoch's loss and accuracy.</summary>
    private static string Results(string output)
    {
        using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var epochs = json.RootElement.GetProperty("epochs").EnumerateArray().Select(e => $"{e.GetProperty("train_loss").GetDouble():R}/{e.GetProperty("train_accuracy").GetDouble():R}");
        return $"{json.RootElement.GetProperty("test_loss").GetDouble():R} {json.RootElement.GetProperty("test_accuracy").GetDouble():R} {string.Join(' ', epochs)}";
    }

    /// <summary>The same command without mpiexec: the plain one-process run.</summary>
    private static (int Code, string Out, string Err) Plain(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Cli }.Concat(args)) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, err);
    }

    [SkippableFact]
    public void WithGradientClipping_TheGradientsAreGathered_AndTheBitsAreThePlainRunsStill()
    {
        // Clipping needs every gradient's norm first, so the update is not sharded: the other path of the step.
        string[] flags = [.. Flags(2).Select(f => f == "adam" ? "sgd" : f), "--clip-grad-norm", "0.5", "--momentum", "0.9"];
        var (plainCode, _, plainErr) = Plain([.. flags, "--save", _dir.File("clip1.safetensors")]);
        Assert.True(plainCode == 0, plainErr);
        var (code, output, err) = Mpi(3, [.. flags, "--save", _dir.File("clip3.safetensors"), "--json"]);
        Assert.True(code == 0, err);
        // Every process takes the whole step: on one host, the parameters were made private again before the first.
        using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        Assert.False(json.RootElement.GetProperty("mpi").GetProperty("shared_parameters").GetBoolean());
        Assert.True(json.RootElement.GetProperty("mpi").GetProperty("shared_memory").GetBoolean());
        Assert.Equal(File.ReadAllBytes(_dir.File("clip1.safetensors")), File.ReadAllBytes(_dir.File("clip3.safetensors")));
    }

    [SkippableFact]
    public void ABatchSmallerThanTheJob_IsRefused_InOneLine()
    {
        var (code, _, err) = Mpi(3, [.. Flags(1).Select(f => f == "32" ? "2" : f)]); // --batch-size 2
        Assert.Equal(2, code);
        var lines = err.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("nabla: error: MPI: a batch of 2 is smaller than the 3 processes", lines[0]);
    }

    [SkippableFact]
    public void ProcessesWithDifferentFlags_AreRefused()
    {
        Skip.IfNot(File.Exists(Mpiexec), "MPICH is not installed.");
        // mpiexec's MPMD form: one process per command line.
        string[] first = [.. Flags(1), "--lr", "0.1"], second = [.. Flags(1), "--lr", "0.2"];
        var (code, _, err) = Mpi(1, [.. first, ":", "-n", "1", "dotnet", Cli, .. second]);
        Assert.Equal(2, code);
        Assert.Contains("process 1 was started with other flags than process 0", err);
    }

    [SkippableFact]
    public void CudaUnderMpiexec_IsRefused_InOneLine()
    {
        var (code, _, err) = Mpi(1, [.. Flags(1), "--device", "cuda"]);
        Assert.Equal(2, code);
        Assert.StartsWith("nabla: error: --device cuda", err.Trim());
        Assert.Contains("under MPI: data-parallel training runs its processes on the CPU", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [SkippableFact]
    public void AnotherCommand_UnderMpiexec_IsRefused()
    {
        var (code, output, err) = Mpi(2, ["backprop"]);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("only train and seed run as one job", err);
        Assert.Single(err.Trim().Split('\n')); // rank 0 alone says it
    }

    [SkippableFact]
    public void AKilledProcess_EndsTheJob_AndItsCheckpoint_ResumedWithAnotherCount_EndsWhereTheUninterruptedRunDoes()
    {
        string checkpoint = Path.Combine(_dir.Path, "ck"), last = Path.Combine(checkpoint, "last.safetensors");
        var clock = new Stopwatch();
        var sharedBefore = SharedFiles();
        // Checkpoints after steps 3 and 6 of each 8-step epoch as well as at its end: the last one written is most
        // often mid-epoch, where the sharded optimizer's state must have been gathered for it.
        var (code, _, _) = Mpi(2, [.. Flags(100_000), "--checkpoint", checkpoint, "--checkpoint-every", "3"], p =>
        {
            var wait = Stopwatch.StartNew();
            while (!File.Exists(last) && wait.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(50);
            Thread.Sleep(300); // a few more epochs
            int victim = RankProcess(1);
            clock.Start();
            Process.GetProcessById(victim).Kill(); // SIGKILL
        });
        clock.Stop();
        Assert.NotEqual(0, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the job took {clock.Elapsed.TotalSeconds:F1} s to end after a process was killed");
        // The shared memory's files were removed once mapped: a killed job leaves none behind.
        Assert.Empty(SharedFiles().Except(sharedBefore));

        int done = Nabla.Training.Checkpoint.ReadState(last).Epoch;
        int epochs = done + 2;
        var (resumed, _, errResumed) = Mpi(3, [.. Flags(epochs), "--resume", last, "--save", _dir.File("resumed.safetensors")]);
        Assert.True(resumed == 0, errResumed);
        var (whole, _, errWhole) = Plain([.. Flags(epochs), "--save", _dir.File("whole.safetensors")]);
        Assert.True(whole == 0, errWhole);
        Assert.Equal(File.ReadAllBytes(_dir.File("whole.safetensors")), File.ReadAllBytes(_dir.File("resumed.safetensors")));
    }

    /// <summary>
    /// .NET turns a SIGSEGV in managed code into a NullReferenceException, which the CLI's error boundary reports in one
    /// line before ending the whole job; UCX (MPICH's transport) by default installs its own handler for the crash
    /// signals at start-up, which would print a native backtrace and end the process instead. The CLI keeps UCX's off:
    /// a SIGSEGV sent to a process must not reach UCX's handler.
    /// </summary>
    [SkippableFact]
    public void TheCrashSignals_StayDotNets_NotUcxs()
    {
        string checkpoint = Path.Combine(_dir.Path, "ck"), last = Path.Combine(checkpoint, "last.safetensors");
        var (code, _, err) = Mpi(2, [.. Flags(100_000), "--checkpoint", checkpoint], p =>
        {
            var wait = Stopwatch.StartNew();
            while (!File.Exists(last) && wait.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(50); // past MPI_Init
            int victim = RankProcess(1);
            using (var kill = Process.Start("kill", ["-SEGV", victim.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Thread.Sleep(500);
            // .NET leaves a SIGSEGV sent from outside alone, so the process trains on: end the job as the test above does
            // (should a runtime end it on the signal instead, the job has ended already).
            try { Process.GetProcessById(victim).Kill(); }
            catch (ArgumentException) { }
        });
        Assert.NotEqual(0, code);
        Assert.DoesNotContain("ucs_handle_error", err, StringComparison.Ordinal);
        Assert.DoesNotContain("Caught signal", err, StringComparison.Ordinal);
    }

    private static string[] SharedFiles() => Directory.Exists("/dev/shm") ? Directory.GetFiles("/dev/shm", "nabla-*") : [];

    [SkippableFact]
    public void SharedMemoryThatCannotBeMade_IsSaidInOneLine_AndTheRowsAreCopied_TheSameBits()
    {
        // A directory where no file can be created stands for a full or missing /dev/shm.
        var environment = new Dictionary<string, string> { ["NABLA_MPI_SHM_DIR"] = "/proc" };
        var (code, output, err) = Mpi(2, [.. Flags(2), "--save", _dir.File("noshm.safetensors"), "--json"], environment: environment);
        Assert.True(code == 0, err);
        Assert.Single(output.Split('\n'), l => l.StartsWith("MPI: the processes copy rows instead of sharing memory (cannot create /proc/nabla-", StringComparison.Ordinal));
        using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        Assert.False(json.RootElement.GetProperty("mpi").GetProperty("shared_memory").GetBoolean());
        var (plainCode, _, plainErr) = Plain([.. Flags(2), "--save", _dir.File("noshm1.safetensors")]);
        Assert.True(plainCode == 0, plainErr);
        Assert.Equal(File.ReadAllBytes(_dir.File("noshm1.safetensors")), File.ReadAllBytes(_dir.File("noshm.safetensors")));
    }

    /// <summary>The process id of rank <paramref name="rank"/> of the running job (from its PMI_RANK).</summary>
    private static int RankProcess(int rank)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (!cmdline.Contains("Nabla.Cli.dll", StringComparison.Ordinal)) continue;
                if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains($"PMI_RANK={rank}")) return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        throw new InvalidOperationException($"no process of rank {rank} found");
    }
}

/// <summary>What needs no MPI library: the refusals and the launcher's detection.</summary>
public sealed class DataParallelRulesTests
{
    [Theory]
    [InlineData(1, 1, null)]
    [InlineData(3, 3, null)]
    [InlineData(3, 32, null)]
    [InlineData(8, 8, null)]
    [InlineData(4, 2, "a batch of 2 is smaller than the 4 processes")]
    [InlineData(64, 32, "a batch of 32 is smaller than the 64 processes")]
    public void Refuses_SaysWhy(int processes, int batch, string? why)
    {
        string? said = DataParallelEngine.Refuses(processes, batch);
        if (why is null) Assert.Null(said);
        else Assert.Contains(why, said);
    }

    [Fact]
    public void OpenMpisLauncher_IsRefused_NamingTheOneToUse()
    {
        // Open MPI's environment on a plain process: refused before any MPI library is loaded.
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Nabla.Cli.dll"), "train", "--epochs", "1" }) start.ArgumentList.Add(a);
        start.Environment["OMPI_COMM_WORLD_SIZE"] = "2";
        using var p = Process.Start(start)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("Open MPI's mpiexec", err);
        Assert.Contains("mpiexec.mpich", err);
    }

    [Fact]
    public void TheLauncher_IsRecognizedFromItsEnvironment()
    {
        Assert.Null(MpiWorld.Launcher(_ => null));
        Assert.Equal("MPICH (PMI)", MpiWorld.Launcher(v => v == "PMI_RANK" ? "0" : null));
        Assert.Equal("Open MPI", MpiWorld.Launcher(v => v == "OMPI_COMM_WORLD_SIZE" ? "2" : null));
        Assert.Equal("Slurm (srun)", MpiWorld.Launcher(v => v switch { "SLURM_PROCID" => "1", "SLURM_NTASKS" => "4", _ => null }));
        Assert.Null(MpiWorld.Launcher(v => v switch { "SLURM_PROCID" => "0", "SLURM_NTASKS" => "1", _ => null })); // a one-task Slurm step is a plain run
    }
}
