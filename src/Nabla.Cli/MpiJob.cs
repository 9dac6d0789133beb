using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Nabla.Distributed;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// <c>mpiexec -n N nabla train …</c>: this process as one of an MPI job. Started before the command line is parsed
/// when the environment shows an MPI launcher: MPI is initialized, and the processes compare a hash of their command
/// lines (a job whose processes were given different flags is refused). Rank 0 alone prints and writes files.
/// </summary>
internal sealed class MpiJob : IDisposable
{
    private MpiJob(MpiWorld world, string launcher) => (World, Launcher) = (world, launcher);

    private DataParallelEngine? _engine; // the run's, once shared: disposed before MPI is finalized

    /// <summary>The job's processes.</summary>
    public MpiWorld World { get; }

    /// <summary>Which launcher started it.</summary>
    public string Launcher { get; }

    /// <summary>The commands that run as one job over MPI processes; any other under a launcher is refused.</summary>
    public static readonly string[] Commands = ["train", "seed"];

    /// <summary>
    /// Null when no MPI launcher started this process; else the job, after checking that every process got the same
    /// command line.
    /// </summary>
    /// <exception cref="UsageException">Another command than train or seed, an MPI library that is missing or of another ABI,
    /// or command lines that differ between processes.</exception>
    public static MpiJob? Start(string[] args)
    {
        if (MpiWorld.Launcher() is not { } launcher) return null;
        string command = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "";
        if (!Commands.Contains(command))
            throw new UsageException($"this process was started by an MPI launcher ({launcher}): only {string.Join(" and ", Commands)} run as one job over MPI processes; run '{(command.Length > 0 ? command : "nabla")}' without mpiexec.");
        MpiWorld world;
        try { world = MpiWorld.Init(); }
        catch (MpiUnavailableException e) { throw new UsageException($"MPI: {e.Message}."); }
        var job = new MpiJob(world, launcher);
        long hash = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', args))));
        var all = world.AllGather(hash);
        if (all.Any(h => h != all[0]))
        {
            int first = Array.FindIndex(all, h => h != all[0]);
            job.Dispose();
            throw new UsageException($"MPI: process {first} was started with other flags than process 0: every process of a job must get the same command line (mpiexec -n N nabla {command} …).");
        }
        return job;
    }

    /// <summary>Rank 0's writer; the others' output goes nowhere.</summary>
    public TextWriter Output(TextWriter writer) => World.IsRoot ? writer : TextWriter.Null;

    /// <summary>
    /// The device and thread count of a process of the job: the CPU (an explicit --device cuda is refused), and with
    /// --threads auto this host's cores shared among its processes (fixed: the tuner times a whole step, which here
    /// includes waiting for the others).
    /// </summary>
    /// <exception cref="UsageException">--device cuda or cuda:N.</exception>
    public static (ThreadChoice Threads, DeviceChoice Device) Adjust(ThreadChoice threads, DeviceChoice device)
    {
        if (device is { IsAuto: false, IsCpu: false })
            throw new UsageException($"--device {device} under MPI: data-parallel training runs its processes on the CPU (CUDA processes, or CUDA and CPU mixed, are not supported); use --device cpu.");
        return (threads.IsAuto ? new ThreadChoice(ThreadsPerProcess) : threads, new DeviceChoice(Devices.Device.Cpu));
    }

    /// <summary>--threads auto under MPI: the cores this process may use, shared by the job's processes on this host.</summary>
    public static int ThreadsPerProcess => Math.Max(1, Environment.ProcessorCount / LocalProcesses);

    /// <summary>The job's processes on this host (MPICH's Hydra says so in MPI_LOCALNRANKS; 1 when unknown).</summary>
    private static int LocalProcesses => Math.Max(1, int.TryParse(Environment.GetEnvironmentVariable("MPI_LOCALNRANKS"), out int n) ? n : 1);

    /// <summary>
    /// The run trains over the job's processes; the line says so (on rank 0). <paramref name="checkpointEvery"/> is
    /// --checkpoint-every, which every process knows (only rank 0 writes the checkpoints).
    /// </summary>
    /// <exception cref="UsageException">The run cannot be shared (the message says why).</exception>
    public void Share(TrainingRun run, int checkpointEvery, TextWriter output)
    {
        try
        {
            run.UseDevice(new DataParallel(World, checkpointEvery), required: true);
            _engine = run.Trainer.Accelerator as DataParallelEngine;
        }
        catch (NotSupportedException e)
        {
            throw new UsageException($"MPI: {e.Message}.");
        }
        output.WriteLine($"MPI: {World.Size} process{(World.Size == 1 ? "" : "es")} on {World.Hosts} host{(World.Hosts == 1 ? "" : "s")} ({Launcher})");
        if (run.Trainer.Accelerator is DataParallelEngine { SharedMemoryUnavailable: { } why })
            output.WriteLine($"MPI: the processes copy rows instead of sharing memory ({why}); a larger /dev/shm (docker run --shm-size) makes the step faster.");
        // MPICH's waits spin: with more processes than cores, each gather waits for a descheduled process's time slice.
        if (LocalProcesses > Environment.ProcessorCount)
            output.WriteLine($"MPI: {LocalProcesses} processes share {Environment.ProcessorCount} cores on this host; MPICH's waits spin, so the job may run far slower than with fewer: run at most {Environment.ProcessorCount}.");
    }

    /// <summary>The --json fields of the job: processes, hosts, and the time of its steps spent in MPI calls.</summary>
    public void AddJson(JsonObject json, TrainingRun run)
    {
        var mpi = new JsonObject { ["processes"] = World.Size, ["hosts"] = World.Hosts };
        if (run.Trainer.Accelerator is DataParallelEngine engine)
        {
            mpi["step_seconds"] = Math.Round(engine.StepSeconds, 4);
            mpi["exchange_seconds"] = Math.Round(engine.ExchangeSeconds, 4);
            mpi["overlapped"] = engine.Overlapped;
            mpi["shared_memory"] = engine.SharedMemory;
            mpi["shared_parameters"] = engine.SharedParameters;
        }
        json["mpi"] = mpi;
    }

    /// <summary>Gives the processes private memory again (the engine's shared pages) and finalizes MPI.</summary>
    public void Dispose()
    {
        _engine?.Dispose();
        World.Dispose();
    }
}
