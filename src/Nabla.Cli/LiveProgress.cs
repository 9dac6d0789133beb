using System.Diagnostics;
using Nabla.Training;
using Spectre.Console;

namespace Nabla.Cli;

/// <summary>
/// The terminal view of a training run (Spectre.Console): one progress bar per epoch with the running loss,
/// samples per second and the time left; finished epochs stay above as plain lines.
/// </summary>
internal static class LiveProgress
{
    public static List<EpochMetrics> Run(Trainer trainer, int batchesPerEpoch, int batchSize, int epochs,
        Func<Action<string>, List<EpochMetrics>> fit)
    {
        List<EpochMetrics> history = [];
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                var clock = new Stopwatch();
                double running = 0;
                var before = trainer.BeforeEpoch;
                var after = trainer.AfterStep;
                trainer.BeforeEpoch = e =>
                {
                    before?.Invoke(e);
                    task?.StopTask();
                    task = ctx.AddTask($"Epoch {e + 1}/{epochs}", maxValue: batchesPerEpoch);
                    running = double.NaN;
                    clock.Restart();
                };
                trainer.AfterStep = (e, b) =>
                {
                    after?.Invoke(e, b);
                    running = double.IsNaN(running) ? trainer.LastLoss : 0.98 * running + 0.02 * trainer.LastLoss;
                    if (task is null || (b % 20 != 0 && b != batchesPerEpoch)) return;
                    task.Value = b;
                    double rate = b * batchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                    task.Description = $"Epoch {e + 1}/{epochs}  loss {running:F4}  {rate:N0} samples/s";
                };
                try
                {
                    history = fit(line => AnsiConsole.WriteLine(line));
                }
                finally
                {
                    task?.StopTask();
                    (trainer.BeforeEpoch, trainer.AfterStep) = (before, after);
                }
            });
        return history;
    }
}
