using System.Buffers;
using System.Numerics.Tensors;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nabla.Data;
using Nabla.IO;
using Nabla.NN;
using Nabla.Training;

namespace Nabla.Cli.Dashboard;

/// <summary>
/// Writes what the dashboard shows into a run's folder, as training goes: <c>run.json</c> (what the run is, written
/// atomically at the start and at the end), <c>events.jsonl</c> (one JSON object per line, appended and flushed:
/// sampled steps, epoch ends, the end) and <c>log.csv</c> (the <c>--log</c> CSV). The page reads nothing else, so a
/// finished run reopens from its files exactly as it looked live.
/// </summary>
/// <remarks>
/// Cost: each step adds its loss to a sum; about <see cref="SamplesPerEpoch"/> times an epoch the recorder also
/// computes each layer's gradient norm and appends a line. At an epoch's end it evaluates the test set once (loss,
/// accuracy, confusion matrix, misclassified images) and copies the first layer's weights.
/// </remarks>
internal sealed class RunRecorder : ITrainingCallback, IDisposable
{
    /// <summary>About how many step samples each epoch gets on the chart.</summary>
    public const int SamplesPerEpoch = 50;

    /// <summary>How many misclassified test images an epoch event carries.</summary>
    public const int MisclassifiedShown = 24;

    /// <summary>The first-layer unit pictures of an epoch take at most this many bytes (every unit of a 784-1024 layer fits).</summary>
    public const int UnitBytes = 1 << 20;

    /// <summary>How many first-layer units are drawn for a layer of <paramref name="units"/> units over <paramref name="pixels"/>-pixel images.</summary>
    public static int UnitsShown(int units, int pixels) => Math.Min(units, UnitBytes / Math.Max(pixels, 1));

    private readonly RunInfo _info;
    private readonly FileStream _events;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _json;
    private readonly Linear[] _layers;
    private readonly List<EpochMetrics> _history = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly int _stride;
    private readonly IDataset? _test;
    private double _windowLoss;
    private int _windowSteps, _windowSamples;
    private double _windowStart;
    private double _flushed; // when events.jsonl was last flushed (seconds on _clock)

    /// <summary>How stale the file may be behind the recorder during an epoch, in seconds.</summary>
    private const double FlushInterval = 0.5;
    private long _stepsDone;
    private bool _ended;

    /// <summary>Starts a run in <paramref name="folder"/> (created if missing): writes run.json and opens events.jsonl.</summary>
    public RunRecorder(string folder, RunInfo info, Module model, IDataset? test)
    {
        Folder = folder;
        _info = info;
        Directory.CreateDirectory(folder);
        _layers = [.. model.Modules().OfType<Linear>()];
        _test = test;
        _stride = Math.Max(1, info.StepsPerEpoch / SamplesPerEpoch);
        WriteInfo("running", null);
        _events = new FileStream(Path.Combine(folder, "events.jsonl"), FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16);
        _json = new Utf8JsonWriter(_buffer);
    }

    /// <summary>The run's folder.</summary>
    public string Folder { get; }

    /// <summary>The largest image (pixels) drawn on the page: larger ones would make each epoch's line megabytes.</summary>
    public const int MaxPicturePixels = 64 * 64;

    /// <summary>Whether epoch lines carry pictures (misclassified images, first-layer units): image inputs up to <see cref="MaxPicturePixels"/>.</summary>
    private bool Pictures => _info.Image is { } size && size.Height * size.Width <= MaxPicturePixels;

    /// <inheritdoc/>
    public void OnEpochBegin(Trainer trainer, int epoch) => _windowStart = _clock.Elapsed.TotalSeconds;

    /// <inheritdoc/>
    public void OnStepEnd(Trainer trainer, int epoch, int batchesDone)
    {
        _stepsDone++;
        _windowLoss += trainer.LastLoss;
        _windowSteps++;
        _windowSamples += _info.BatchSize;
        if (batchesDone % _stride != 0 && batchesDone != _info.StepsPerEpoch) return;
        double now = _clock.Elapsed.TotalSeconds, seconds = Math.Max(now - _windowStart, 1e-9);
        double rate = _stepsDone / Math.Max(now, 1e-9);
        long left = (long)_info.Epochs * _info.StepsPerEpoch - _stepsDone;
        _json.Reset();
        _json.WriteStartObject();
        _json.WriteString("type", "step");
        _json.WriteNumber("epoch", _info.EpochOffset + (epoch - _info.TrainerEpochBase) + (double)batchesDone / _info.StepsPerEpoch);
        _json.WriteNumber("step", _stepsDone);
        double loss = _windowLoss / _windowSteps;
        // On a GPU the step's loss stays on the device (it is summed there per epoch): LastLoss is not the step's.
        if (trainer.Accelerator is null && double.IsFinite(loss)) _json.WriteNumber("loss", Math.Round(loss, 6));
        _json.WriteNumber("lr", trainer.Optimizer.LearningRate);
        _json.WriteNumber("samples_per_second", Math.Round(_windowSamples / seconds));
        _json.WriteNumber("seconds_left", Math.Round(Math.Max(left, 0) / Math.Max(rate, 1e-9), 1));
        _json.WriteNumber("time", Math.Round(now, 3));
        // The count in use (--threads auto changes it as it finds faster; the events show when).
        var context = Nabla.Compute.ComputeContext.Current;
        _json.WriteNumber("threads", context.Pool.ActiveThreads);
        if (context.Tuner is not null) _json.WriteBoolean("threads_auto", true);
        if (trainer.Accelerator is null) WriteGradNorms();
        _json.WriteEndObject();
        Append(flush: now - _flushed >= FlushInterval);
        _windowLoss = 0;
        _windowSteps = _windowSamples = 0;
        _windowStart = now;
    }

    /// <summary>Each Linear layer's gradient 2-norm (weight and bias together): how the textbook's sigmoid gradients vanish layer by layer.</summary>
    private void WriteGradNorms()
    {
        _json.WriteStartArray("grad_norms");
        foreach (var layer in _layers)
        {
            double sum = layer.Weight.Grad is { } gw ? TensorPrimitives.SumOfSquares(gw.Data) : double.NaN;
            if (layer.Bias?.Grad is { } gb) sum += TensorPrimitives.SumOfSquares(gb.Data);
            if (double.IsFinite(sum)) _json.WriteNumberValue(Math.Round(Math.Sqrt(sum), 7));
            else _json.WriteNullValue();
        }
        _json.WriteEndArray();
    }

    /// <inheritdoc/>
    public void OnEpochEnd(Trainer trainer, EpochMetrics metrics, ref bool stop)
    {
        var m = metrics with { Epoch = metrics.Epoch - _info.TrainerEpochBase };
        _history.Add(m);
        var e = new JsonObject
        {
            ["type"] = "epoch",
            ["epoch"] = _info.EpochOffset + m.Epoch,
            ["train_loss"] = Math.Round(m.TrainLoss, 6),
            ["seconds"] = Math.Round(m.Seconds, 4),
            ["samples_per_second"] = Math.Round(m.SamplesPerSecond),
            ["lr"] = m.LearningRate,
        };
        if (_info.Classes > 0) e["train_accuracy"] = Math.Round(m.TrainAccuracy, 6);
        if (m.Validation is { } v)
        {
            e["val_loss"] = Math.Round(v.Loss, 6);
            if (_info.Classes > 0) e["val_accuracy"] = Math.Round(v.Accuracy, 6);
        }
        if (_test is not null && _info.Classes > 0) Evaluate(trainer.Model, e);
        if (Pictures && _layers.Length > 0 && _layers[0].InFeatures == _info.Image!.Value.Height * _info.Image.Value.Width) e["units"] = Units(_layers[0]);
        _json.Reset();
        e.WriteTo(_json);
        Append();
        MetricsCsv.Write(Path.Combine(Folder, "log.csv"), _history, hasAccuracy: _info.Classes > 0);
    }

    /// <summary>The test set's loss, accuracy, confusion matrix and first misclassified images (one pass of <see cref="ClassificationReport"/>).</summary>
    private void Evaluate(Module model, JsonObject e)
    {
        var report = ClassificationReport.Evaluate(model, _test!, 500);
        int classes = report.ClassNames.Count;
        e["test_loss"] = Math.Round(report.Loss, 6);
        e["test_accuracy"] = Math.Round(report.Accuracy, 6);
        e["confusion"] = new JsonArray([.. Enumerable.Range(0, classes).Select(t =>
            (JsonNode)new JsonArray([.. Enumerable.Range(0, classes).Select(p => (JsonNode)report.Confusion[t, p])]))]);
        e["misclassified"] = new JsonArray([.. report.Misclassified.Take(MisclassifiedShown)
            .Select(m => (JsonNode)Misclassified(m.Index, _test!.Label(m.Index), m.Predicted))]);
    }

    private JsonObject Misclassified(int index, int label, int predicted)
    {
        var o = new JsonObject { ["index"] = index, ["label"] = label, ["predicted"] = predicted };
        if (Pictures && _test is ImageDataset images) o["pixels"] = Convert.ToBase64String(images.Image(index));
        return o;
    }

    /// <summary>The first layer's units as images (all of them, up to <see cref="UnitBytes"/>): byte 128 is 0, 0 and 255 the unit's largest |w|, negative and positive.</summary>
    private static JsonArray Units(Linear first)
    {
        var w = first.Weight.Data;
        int n = first.InFeatures, units = UnitsShown(first.OutFeatures, n);
        var bytes = new byte[n];
        var all = new JsonArray();
        for (int u = 0; u < units; u++)
        {
            var row = w.Slice(u * n, n);
            float scale = Math.Max(TensorPrimitives.MaxMagnitude(row) is var m && float.IsFinite(m) ? Math.Abs(m) : 0, 1e-12f);
            for (int i = 0; i < n; i++) bytes[i] = (byte)Math.Clamp(MathF.Round(127.5f + 127.5f * row[i] / scale), 0, 255);
            all.Add(Convert.ToBase64String(bytes));
        }
        return all;
    }

    /// <summary>Ends the run: its test result (if any) and status go to events.jsonl and run.json.</summary>
    public void Finish(string status, double? testLoss = null, double? testAccuracy = null, string? message = null)
    {
        if (_ended) return;
        _ended = true;
        var e = new JsonObject { ["type"] = "end", ["status"] = status, ["time"] = Math.Round(_clock.Elapsed.TotalSeconds, 3) };
        if (testLoss is { } l) e["test_loss"] = Math.Round(l, 6);
        if (testAccuracy is { } a) e["test_accuracy"] = Math.Round(a, 6);
        if (message is not null) e["message"] = message;
        _json.Reset();
        e.WriteTo(_json);
        Append();
        if (testAccuracy is { } t) MetricsCsv.Write(Path.Combine(Folder, "log.csv"), _history, t, hasAccuracy: _info.Classes > 0);
        WriteInfo(status, e);
    }

    /// <summary>
    /// Writes the current JSON object as one line. Step lines reach the file at most every <see cref="FlushInterval"/>
    /// (the page reads once a second; a write call per sampled step would be I/O inside training), epoch and end lines
    /// at once. A line the buffer cuts is completed by the next write; the server serves only whole lines.
    /// </summary>
    private void Append(bool flush = true)
    {
        _json.Flush();
        _events.Write(_buffer.WrittenSpan);
        _events.WriteByte((byte)'\n');
        _buffer.ResetWrittenCount();
        if (!flush) return;
        _events.Flush();
        _flushed = _clock.Elapsed.TotalSeconds;
    }

    private void WriteInfo(string status, JsonObject? end)
    {
        var o = _info.ToJson();
        o["status"] = status;
        // Which process writes the run: a reader can tell a run still going from one whose process was killed.
        o["host"] = Environment.MachineName;
        o["pid"] = Environment.ProcessId;
        if (end is not null) o["ended"] = DateTime.UtcNow.ToString("O");
        var bytes = System.Text.Encoding.UTF8.GetBytes(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.Write(Path.Combine(Folder, "run.json"), s => s.Write(bytes));
    }

    /// <summary>Closes the events file; a run not finished by then ends as "stopped".</summary>
    public void Dispose()
    {
        if (!_ended) Finish("stopped");
        _json.Dispose();
        _events.Dispose();
    }
}
