using System.Globalization;
using System.Text;
using Nabla.IO;

namespace Nabla.Training;

/// <summary>
/// Per-epoch metrics as CSV — <c>epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_accuracy,seconds</c>,
/// accuracies in percent, empty where not measured (test accuracy is known after the last epoch only) — rewritten
/// atomically after each epoch, so an interrupted run leaves a complete log of the epochs it finished.
/// </summary>
public static class MetricsCsv
{
    /// <summary>The CSV header line.</summary>
    public const string Header = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_accuracy,seconds";

    /// <summary>
    /// Writes <paramref name="history"/> to <paramref name="path"/>; <paramref name="testAccuracy"/> (a fraction) goes on
    /// the last row. A regression (<paramref name="hasAccuracy"/> false) leaves the accuracy columns empty.
    /// </summary>
    public static void Write(string path, IReadOnlyList<EpochMetrics> history, double? testAccuracy = null, bool hasAccuracy = true)
    {
        var sb = new StringBuilder(Header).Append('\n');
        for (int i = 0; i < history.Count; i++)
        {
            var m = history[i];
            string test = i == history.Count - 1 && testAccuracy is double t ? F(100 * t) : "";
            string A(double a) => hasAccuracy ? F(100 * a) : "";
            sb.Append(CultureInfo.InvariantCulture, $"{m.Epoch},{F(m.TrainLoss)},{A(m.TrainAccuracy)},")
              .Append(m.Validation is { } v ? $"{F(v.Loss)},{A(v.Accuracy)}" : ",")
              .Append(CultureInfo.InvariantCulture, $",{test},{F(m.Seconds)}\n");
        }
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    private static string F(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
}
