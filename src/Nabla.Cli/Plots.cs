using Nabla.Data;
using Nabla.Training;
using SkiaSharp;

namespace Nabla.Cli;

/// <summary>The PNGs of <c>--plot DIR</c>, drawn with ScottPlot (charts) and SkiaSharp (the image grid).</summary>
internal static class Plots
{
    private const int Width = 800, Height = 500;

    /// <summary>Writes the plot as a PNG atomically (a temporary file renamed over the target).</summary>
    private static void Save(ScottPlot.Plot plot, string path, int width, int height)
    {
        string full = IO.AtomicFile.Target(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.tmp-{Guid.NewGuid():N}.png");
        try
        {
            plot.SavePng(temp, width, height);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Epochs are whole numbers: ticks at 1, 2, 3 … (every k-th when there are many), outside legends.</summary>
    private static void EpochAxis(ScottPlot.Plot plot, int epochs)
    {
        int step = Math.Max(1, (int)Math.Ceiling(epochs / 12.0));
        double[] ticks = [.. Enumerable.Range(1, epochs).Where(e => (e - 1) % step == 0).Select(e => (double)e)];
        plot.Axes.Bottom.SetTicks(ticks, [.. ticks.Select(t => ((int)t).ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        plot.ShowLegend(ScottPlot.Edge.Right); // beside the plot area: it covers no data
    }

    /// <summary>
    /// loss.png and accuracy.png: training (and validation) curves per epoch; the test accuracy as a dashed line.
    /// A regression (no <paramref name="testAccuracy"/>) gets loss.png only, its mean squared error.
    /// </summary>
    public static void Curves(string dir, IReadOnlyList<EpochMetrics> history, double? testAccuracy)
    {
        Directory.CreateDirectory(dir);
        double[] epochs = [.. history.Select(m => (double)m.Epoch)];
        var loss = new ScottPlot.Plot();
        loss.Add.Scatter(epochs, history.Select(m => m.TrainLoss).ToArray()).LegendText = "training loss";
        if (history.All(m => m.Validation is not null))
            loss.Add.Scatter(epochs, history.Select(m => m.Validation!.Loss).ToArray()).LegendText = "validation loss";
        loss.Title(testAccuracy is null ? "Mean squared error per epoch" : "Cross-entropy loss per epoch");
        loss.XLabel("epoch");
        loss.YLabel("loss");
        EpochAxis(loss, history.Count == 0 ? 1 : history[^1].Epoch);
        Save(loss, Path.Combine(dir, "loss.png"), Width, Height);
        if (testAccuracy is not double testFraction) return;

        var acc = new ScottPlot.Plot();
        acc.Add.Scatter(epochs, history.Select(m => 100 * m.TrainAccuracy).ToArray()).LegendText = "training accuracy";
        if (history.All(m => m.Validation is not null))
            acc.Add.Scatter(epochs, history.Select(m => 100 * m.Validation!.Accuracy).ToArray()).LegendText = "validation accuracy";
        var test = acc.Add.HorizontalLine(100 * testFraction);
        test.LegendText = $"test accuracy ({100 * testFraction:F1} %)";
        test.LinePattern = ScottPlot.LinePattern.Dashed;
        acc.Title("Accuracy per epoch");
        acc.XLabel("epoch");
        acc.YLabel("accuracy (%)");
        EpochAxis(acc, history.Count == 0 ? 1 : history[^1].Epoch);
        Save(acc, Path.Combine(dir, "accuracy.png"), Width, Height);
    }

    /// <summary>regression.png: predicted against true values on the test set (each target a colour), with the line y = x.</summary>
    public static void Regression(string dir, RegressionReport report)
    {
        Directory.CreateDirectory(dir);
        var plt = new ScottPlot.Plot();
        int t = report.TargetNames.Count, n = report.Actual.Length / t;
        double lo = double.MaxValue, hi = double.MinValue;
        for (int j = 0; j < t; j++)
        {
            double[] x = new double[n], y = new double[n];
            for (int i = 0; i < n; i++) (x[i], y[i]) = (report.Actual[i * t + j], report.Predicted[i * t + j]);
            var points = plt.Add.ScatterPoints(x, y);
            points.LegendText = $"{report.TargetNames[j]} (R² {report.R2[j]:F3})";
            points.MarkerSize = 4;
            lo = Math.Min(lo, Math.Min(x.Min(), y.Min()));
            hi = Math.Max(hi, Math.Max(x.Max(), y.Max()));
        }
        var diagonal = plt.Add.Line(lo, lo, hi, hi);
        diagonal.LinePattern = ScottPlot.LinePattern.Dashed;
        diagonal.LegendText = "predicted = true";
        plt.Title($"Test set: predicted against true (RMSE {report.OverallRmse:G4})");
        plt.XLabel("true value");
        plt.YLabel("predicted value");
        plt.ShowLegend(ScottPlot.Edge.Right);
        Save(plt, Path.Combine(dir, "regression.png"), Width, Height);
    }

    /// <summary>confusion.png: the confusion matrix as a heatmap with the counts written in each cell.</summary>
    public static void Confusion(string dir, ClassificationReport report)
    {
        Directory.CreateDirectory(dir);
        int k = report.ClassNames.Count;
        var values = new double[k, k];
        for (int t = 0; t < k; t++)
            for (int p = 0; p < k; p++) values[t, p] = report.Confusion[t, p];
        var plt = new ScottPlot.Plot();
        var heat = plt.Add.Heatmap(values);
        heat.Colormap = new ScottPlot.Colormaps.Viridis();
        plt.Add.ColorBar(heat);
        double max = values.Cast<double>().Max();
        for (int t = 0; t < k; t++)
            for (int p = 0; p < k; p++)
            {
                // Heatmap row 0 is drawn at the top: cell (t, p) is centred on x = p, y = k − 1 − t.
                var label = plt.Add.Text(report.Confusion[t, p].ToString(), p, k - 1 - t);
                label.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
                label.LabelFontColor = values[t, p] > max / 2 ? ScottPlot.Colors.Black : ScottPlot.Colors.White;
                label.LabelFontSize = 11;
            }
        double[] ticks = [.. Enumerable.Range(0, k).Select(i => (double)i)];
        plt.Axes.Bottom.SetTicks(ticks, [.. report.ClassNames]);
        plt.Axes.Left.SetTicks([.. ticks.Reverse()], [.. report.ClassNames]);
        plt.Axes.Bottom.TickLabelStyle.FontSize = 10;
        plt.Title($"Confusion matrix (test accuracy {100 * report.Accuracy:F1} %)");
        plt.XLabel("predicted class");
        plt.YLabel("true class");
        Save(plt, Path.Combine(dir, "confusion.png"), 900, 800);
    }

    /// <summary>misclassified.png: up to 24 misclassified test images, each captioned "true → predicted".</summary>
    public static void Misclassified(string dir, ImageDataset test, IReadOnlyList<(int Index, int Predicted)> wrong, int totalWrong)
    {
        Directory.CreateDirectory(dir);
        const int cols = 6, scale = 4, cap = 30, pad = 10;
        int shown = Math.Min(24, wrong.Count), rows = Math.Max(1, (shown + cols - 1) / cols);
        int cellW = Math.Max(test.Width * scale, 130) + pad, cellH = test.Height * scale + cap + pad;
        using var surface = SKSurface.Create(new SKImageInfo(cols * cellW + pad, rows * cellH + 50 + pad));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var titleFont = new SKFont(SKTypeface.Default, 20);
        using var font = new SKFont(SKTypeface.Default, 12);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText($"Misclassified test images (true → predicted): the first {shown} of {totalWrong:N0}", pad, 32, titleFont, ink);
        for (int n = 0; n < shown; n++)
        {
            var (index, predicted) = wrong[n];
            int x0 = pad + n % cols * cellW, y0 = 50 + n / cols * cellH;
            using var bitmap = new SKBitmap(new SKImageInfo(test.Width, test.Height, SKColorType.Gray8, SKAlphaType.Opaque));
            var pixels = test.Image(index);
            for (int y = 0; y < test.Height; y++)
                for (int x = 0; x < test.Width; x++)
                {
                    byte v = pixels[y * test.Width + x];
                    bitmap.SetPixel(x, y, new SKColor(v, v, v));
                }
            using var image = SKImage.FromBitmap(bitmap);
            canvas.DrawImage(image, SKRect.Create(x0, y0, test.Width * scale, test.Height * scale), new SKSamplingOptions(SKFilterMode.Nearest));
            canvas.DrawText($"{test.ClassNames[test.Label(index)]} → {test.ClassNames[predicted]}", x0, y0 + test.Height * scale + 18, font, ink);
        }
        using var png = surface.Snapshot().Encode(SKEncodedImageFormat.Png, 100);
        IO.AtomicFile.Write(Path.Combine(dir, "misclassified.png"), s => png.SaveTo(s));
    }

    /// <summary>optimizers.png: one training-loss curve per optimizer (for <c>nabla compare</c>).</summary>
    public static void Optimizers(string dir, IReadOnlyList<(string Name, IReadOnlyList<EpochMetrics> History)> runs)
    {
        Directory.CreateDirectory(dir);
        var plt = new ScottPlot.Plot();
        foreach (var (name, history) in runs)
            plt.Add.Scatter(history.Select(m => (double)m.Epoch).ToArray(), history.Select(m => m.TrainLoss).ToArray()).LegendText = name;
        plt.Title("Training loss per epoch, same model and initial weights");
        plt.XLabel("epoch");
        plt.YLabel("cross-entropy loss");
        EpochAxis(plt, runs.Count == 0 ? 1 : runs.Max(r => r.History.Count));
        Save(plt, Path.Combine(dir, "optimizers.png"), Width + 100, Height);
    }
}
