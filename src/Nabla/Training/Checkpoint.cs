using System.Globalization;
using System.Text.Json;
using Nabla.Data;
using Nabla.IO;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Training;

/// <summary>Where a run stands: what a checkpoint records besides the weights and the optimizer's buffers.</summary>
/// <param name="Epoch">Epochs completed (0-based index of the epoch in progress).</param>
/// <param name="Batch">Batches of that epoch already trained on.</param>
/// <param name="EpochShuffleRng">The shuffling generator's state at the start of that epoch, so its order can be redrawn.</param>
/// <param name="DropoutRng">The dropout generator's state now (null without dropout).</param>
/// <param name="Config">The run's configuration, as JSON.</param>
/// <param name="Dataset">Which training data the run was on (<see cref="TrainingRun.Fingerprint"/>), so that a resume on other data is refused.</param>
public sealed record CheckpointState(int Epoch, int Batch, ulong[] EpochShuffleRng, ulong[]? DropoutRng, string Config, string? Dataset = null);

/// <summary>
/// Training checkpoints: the weights under their PyTorch names, every optimizer buffer as
/// <c>optimizer.{buffer}.{parameter}</c>, and the run's position, generators and configuration as metadata — one
/// safetensors file, written atomically, so an interrupted write leaves the previous checkpoint intact. Resuming
/// from one ends, bit for bit, where the uninterrupted run ends.
/// </summary>
public static class Checkpoint
{
    private const string StateKey = "nabla.checkpoint", SchedulerKey = "nabla.scheduler", ConvergenceKey = "nabla.convergence";

    /// <summary>
    /// Writes a checkpoint of <paramref name="model"/> and <paramref name="optimizer"/> at <paramref name="state"/>,
    /// with the early-stopping state (counters and best-weights snapshot) when there is one.
    /// </summary>
    public static void Save(string path, Module model, Optimizer optimizer, CheckpointState state, EarlyStopping? stopper = null, LRScheduler? scheduler = null,
        ConvergenceStopping? convergence = null)
    {
        var tensors = new List<(string, float[], long[])>();
        var named = model.NamedParameters();
        foreach (var (name, p) in named) tensors.Add((name, p.ToArray(), [.. p.Shape.ToArray().Select(d => (long)d)]));
        foreach (var (buffer, arrays) in optimizer.State())
            for (int i = 0; i < arrays.Count; i++) tensors.Add(($"optimizer.{buffer}.{named[i].Name}", arrays[i].ToArray(), [arrays[i].Size]));
        if (stopper?.BestWeights is { } best)
            for (int i = 0; i < best.Length; i++) tensors.Add(($"early_stopping.best.{named[i].Name}", best[i], [best[i].Length]));
        var meta = new Dictionary<string, string>
        {
            [StateKey] = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["epoch"] = state.Epoch,
                ["batch"] = state.Batch,
                ["epoch_shuffle_rng"] = state.EpochShuffleRng.Select(Hex).ToArray(),
                ["dropout_rng"] = state.DropoutRng?.Select(Hex).ToArray(),
                ["optimizer"] = optimizer.GetType().Name,
                ["optimizer_steps"] = optimizer.Steps,
                ["learning_rate"] = optimizer.LearningRate,
                ["config"] = state.Config,
                ["dataset"] = state.Dataset,
                ["early_stopping"] = stopper is null ? null : new Dictionary<string, object>
                {
                    ["best_loss"] = stopper.BestLoss.ToString("R", CultureInfo.InvariantCulture), ["best_epoch"] = stopper.BestEpoch,
                    ["wait"] = stopper.EpochsWithoutImprovement, ["stopped_epoch"] = stopper.StoppedEpoch,
                },
            }),
        };
        if (scheduler is not null) meta[SchedulerKey] = Values(scheduler.SaveState());
        if (convergence is not null) meta[ConvergenceKey] = Values(convergence.SaveState());
        SafeTensors.Save(path, tensors, meta);
    }

    /// <summary>Reads only the run's position and configuration (to rebuild the model before <see cref="Restore"/>).</summary>
    /// <exception cref="DataFormatException">Not a Nabla checkpoint, or damaged.</exception>
    public static CheckpointState ReadState(string path) => Parse(path, SafeTensors.Read(path).Metadata).State;

    /// <summary>
    /// Loads the weights and optimizer buffers of <paramref name="path"/> into <paramref name="model"/> and
    /// <paramref name="optimizer"/>, and the early-stopping state into <paramref name="stopper"/> if given.
    /// </summary>
    /// <exception cref="DataFormatException">The checkpoint does not fit the model, the optimizer or the stopper.</exception>
    public static CheckpointState Restore(string path, Module model, Optimizer optimizer, EarlyStopping? stopper = null, LRScheduler? scheduler = null,
        ConvergenceStopping? convergence = null)
    {
        var (meta, tensors) = SafeTensors.Read(path);
        var (state, kind, steps, lr) = Parse(path, meta);
        if (kind != optimizer.GetType().Name)
            throw new DataFormatException($"{path}: the checkpoint's optimizer is {kind}, not {optimizer.GetType().Name}.");
        var named = model.NamedParameters();
        ModelFile.LoadInto(path, model, [.. tensors.Where(t => !t.Name.StartsWith("optimizer.", StringComparison.Ordinal)
                                                           && !t.Name.StartsWith("early_stopping.", StringComparison.Ordinal))]);
        var byName = tensors.ToDictionary(t => t.Name);
        foreach (var (buffer, arrays) in optimizer.State())
            for (int i = 0; i < arrays.Count; i++)
            {
                string key = $"optimizer.{buffer}.{named[i].Name}";
                if (!byName.TryGetValue(key, out var t) || t.Data.Length != arrays[i].Size)
                    throw new DataFormatException($"{path}: optimizer buffer '{key}' is missing or has the wrong size.");
                t.Data.CopyTo(arrays[i].Data);
            }
        if (steps.Length != optimizer.Steps.Length) throw new DataFormatException($"{path}: step counts for {steps.Length} parameters, the model has {optimizer.Steps.Length}.");
        steps.CopyTo(optimizer.Steps, 0);
        optimizer.LearningRate = lr;
        if (stopper is not null) RestoreStopper(path, meta, byName, named, stopper);
        try
        {
            scheduler?.RestoreState(Values(path, meta, SchedulerKey, "learning-rate schedule"));
            convergence?.RestoreState(Values(path, meta, ConvergenceKey, "convergence check"));
        }
        catch (FormatException e)
        {
            throw new DataFormatException($"{path}: {e.Message}.", e);
        }
        return state;
    }

    /// <summary>Numbers as JSON strings ("R" form), so that infinity (a best loss before any epoch) survives.</summary>
    private static string Values(Dictionary<string, double> values) =>
        JsonSerializer.Serialize(values.ToDictionary(p => p.Key, p => p.Value.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>A state <see cref="Values(Dictionary{string, double})"/> wrote, checked.</summary>
    /// <exception cref="DataFormatException">Missing (the run has the part, the checkpoint not) or malformed.</exception>
    private static Dictionary<string, double> Values(string path, IReadOnlyDictionary<string, string> meta, string key, string what)
    {
        if (!meta.TryGetValue(key, out var json))
            throw new DataFormatException($"{path}: the run has a {what}, but the checkpoint holds no state for it.");
        try
        {
            var values = JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? throw new FormatException($"no {what} state");
            return values.ToDictionary(p => p.Key, p => double.Parse(p.Value, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException)
        {
            throw new DataFormatException($"{path}: bad {what} state ({e.Message}).", e);
        }
    }

    private static (CheckpointState State, string Optimizer, long[] Steps, float LearningRate) Parse(string path, IReadOnlyDictionary<string, string> meta)
    {
        if (!meta.TryGetValue(StateKey, out var json))
            throw new DataFormatException($"{path}: not a Nabla training checkpoint (no '{StateKey}' metadata).");
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            var dropout = r.GetProperty("dropout_rng");
            var state = new CheckpointState(
                r.GetProperty("epoch").GetInt32(), r.GetProperty("batch").GetInt32(),
                [.. r.GetProperty("epoch_shuffle_rng").EnumerateArray().Select(e => ulong.Parse(e.GetString()!, NumberStyles.HexNumber))],
                dropout.ValueKind == JsonValueKind.Null ? null : [.. dropout.EnumerateArray().Select(e => ulong.Parse(e.GetString()!, NumberStyles.HexNumber))],
                r.GetProperty("config").GetString()!,
                r.TryGetProperty("dataset", out var ds) && ds.ValueKind == JsonValueKind.String ? ds.GetString() : null);
            if (state.Epoch < 0 || state.Batch < 0)
                throw new FormatException($"position epoch {state.Epoch}, batch {state.Batch} is negative");
            if (state.EpochShuffleRng.Length != 4 || state.EpochShuffleRng.All(w => w == 0))
                throw new FormatException("the shuffling generator's state is not four words, not all zero");
            long[] steps = [.. r.GetProperty("optimizer_steps").EnumerateArray().Select(e => e.GetInt64())];
            float lr = r.GetProperty("learning_rate").GetSingle();
            if (steps.Any(v => v < 0)) throw new FormatException("a negative optimizer step count");
            if (!(lr >= 0) || float.IsInfinity(lr)) throw new FormatException($"learning rate {lr}");
            return (state, r.GetProperty("optimizer").GetString() ?? throw new FormatException("no optimizer name"), steps, lr);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException
                                   or ArgumentException)
        {
            throw new DataFormatException($"{path}: damaged checkpoint metadata ({e.Message}).", e);
        }
    }

    private static void RestoreStopper(string path, IReadOnlyDictionary<string, string> meta, Dictionary<string, SafeTensorsEntry> byName,
        IReadOnlyList<(string Name, Tensors.Tensor Parameter)> named, EarlyStopping stopper)
    {
        using var doc = JsonDocument.Parse(meta[StateKey]);
        if (!doc.RootElement.TryGetProperty("early_stopping", out var es) || es.ValueKind != JsonValueKind.Object)
            throw new DataFormatException($"{path}: the checkpoint was written without early stopping; resume it without early stopping.");
        try
        {
            RestoreStopper(path, es, byName, named, stopper);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new DataFormatException($"{path}: damaged early-stopping state ({e.Message}).", e);
        }
    }

    private static void RestoreStopper(string path, JsonElement es, Dictionary<string, SafeTensorsEntry> byName,
        IReadOnlyList<(string Name, Tensors.Tensor Parameter)> named, EarlyStopping stopper)
    {
        float[][]? best = null;
        if (byName.ContainsKey($"early_stopping.best.{named[0].Name}"))
            best = [.. named.Select(n => byName.TryGetValue($"early_stopping.best.{n.Name}", out var t) && t.Data.Length == n.Parameter.Size
                ? t.Data : throw new DataFormatException($"{path}: the early-stopping snapshot of '{n.Name}' is missing or has the wrong size."))];
        double bestLoss = double.Parse(es.GetProperty("best_loss").GetString() ?? "", CultureInfo.InvariantCulture);
        int bestEpoch = es.GetProperty("best_epoch").GetInt32(), wait = es.GetProperty("wait").GetInt32(), stopped = es.GetProperty("stopped_epoch").GetInt32();
        if (bestEpoch < 0 || wait < 0 || stopped < 0 || double.IsNaN(bestLoss)) throw new FormatException("negative or NaN counters");
        stopper.Restore(bestLoss, bestEpoch, wait, stopped, best);
    }

    private static string Hex(ulong v) => v.ToString("x16", CultureInfo.InvariantCulture);
}
