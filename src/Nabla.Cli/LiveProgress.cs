using System.Diagnostics;
using Nabla.Training;
using Spectre.Console;

namespace Nabla.Cli;

/// <summary>
/// The terminal view of a training run (Spectre.Console): one progress bar per epoch with the running loss,
/// samples per second and the time left; finished epochs stay above as plain lines. It is a training callback.
/// </summary>
internal static class LiveProgress
{
    /// <summary>Runs <paramref name="fit"/> (given how to print a line and the progress callback) under a live display.</summary>
    public static List<EpochMetrics> Run(int batchesPerEpoch, int batchSize, int epochs,
        Func<Action<string>, ITrainingCallback, List<EpochMetrics>> fit)
    {
        List<EpochMetrics> history = [];
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bars = new Bars(ctx, batchesPerEpoch, batchSize, epochs);
                try
                {
                    history = fit(line => AnsiConsole.WriteLine(line), bars);
                }
                finally
                {
                    bars.Stop();
                }
            });
        return history;
    }

    private sealed class Bars(ProgressContext ctx, int batchesPerEpoch, int batchSize, int epochs) : ITrainingCallback
    {
        private ProgressTask? _task;
        private readonly Stopwatch _clock = new();
        private double _running;

        public void OnEpochBegin(Trainer trainer, int epoch)
        {
            _task?.StopTask();
            _task = ctx.AddTask($"Epoch {epoch + 1}/{epochs}", maxValue: batchesPerEpoch);
            _running = double.NaN;
            _clock.Restart();
        }

        public void OnStepEnd(Trainer trainer, int epoch, int b)
        {
            _running = double.IsNaN(_running) ? trainer.LastLoss : 0.98 * _running + 0.02 * trainer.LastLoss;
            if (_task is null || (b % 20 != 0 && b != batchesPerEpoch)) return;
            _task.Value = b;
            double rate = b * batchSize / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
            _task.Description = $"Epoch {epoch + 1}/{epochs}  loss {_running:F4}  {rate:N0} samples/s";
        }

        public void Stop() => _task?.StopTask();
    }
}
