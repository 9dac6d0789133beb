using Nabla.Data;
using Nabla.NN;

namespace Nabla.Training;

/// <summary>How a regression model does on a dataset: RMSE, MAE and R² per target and over all targets.</summary>
public sealed class RegressionReport
{
    private RegressionReport(IReadOnlyList<string> names, double[] rmse, double[] mae, double[] r2, float[] predicted, float[] actual)
    {
        (TargetNames, Rmse, Mae, R2, Predicted, Actual) = (names, rmse, mae, r2, predicted, actual);
    }

    /// <summary>The targets' names.</summary>
    public IReadOnlyList<string> TargetNames { get; }

    /// <summary>Root mean squared error per target.</summary>
    public double[] Rmse { get; }

    /// <summary>Mean absolute error per target.</summary>
    public double[] Mae { get; }

    /// <summary>Coefficient of determination per target: 1 − SSE/SST (scikit-learn's r2_score).</summary>
    public double[] R2 { get; }

    /// <summary>Predictions, samples × targets (for plots).</summary>
    public float[] Predicted { get; }

    /// <summary>True values, samples × targets.</summary>
    public float[] Actual { get; }

    /// <summary>RMSE over all targets' errors together.</summary>
    public double OverallRmse => Math.Sqrt(Rmse.Select(r => r * r).Average());

    /// <summary>MAE over all targets.</summary>
    public double OverallMae => Mae.Average();

    /// <summary>R² averaged over the targets (scikit-learn's "uniform_average").</summary>
    public double OverallR2 => R2.Average();

    /// <summary>Runs <paramref name="model"/> (evaluation mode, no gradients) over <paramref name="data"/> and measures its errors.</summary>
    /// <exception cref="ArgumentException">The dataset has no numeric targets, or the model's outputs are not one per target.</exception>
    public static RegressionReport Evaluate(Module model, IDataset data, IReadOnlyList<string> targetNames, int batchSize = 256)
    {
        int t = data.Targets;
        if (t == 0) throw new ArgumentException("The dataset has no numeric targets.");
        if (targetNames.Count != t) throw new ArgumentException($"{targetNames.Count} target names for a dataset of {t} targets.");
        var predicted = new float[data.Count * t];
        var actual = new float[data.Count * t];
        int at = 0;
        foreach (var b in new DataLoader(data, batchSize))
        {
            var y = model.PredictValues(b.X); // evaluation mode, no gradients; the model's mode is restored
            if (y.Size != b.Size * t) throw new ArgumentException($"The model gives {y.Size / Math.Max(b.Size, 1)} outputs per sample; the data has {t} targets.");
            y.Data.CopyTo(predicted.AsSpan(at * t));
            b.Targets!.AsSpan(0, b.Size * t).CopyTo(actual.AsSpan(at * t));
            at += b.Size;
        }
        var rmse = new double[t];
        var mae = new double[t];
        var r2 = new double[t];
        int n = data.Count;
        for (int j = 0; j < t; j++)
        {
            double mean = 0, sse = 0, sae = 0, sst = 0;
            for (int i = 0; i < n; i++) mean += actual[i * t + j];
            mean /= n;
            for (int i = 0; i < n; i++)
            {
                double e = predicted[i * t + j] - actual[i * t + j], d = actual[i * t + j] - mean;
                sse += e * e;
                sae += Math.Abs(e);
                sst += d * d;
            }
            (rmse[j], mae[j], r2[j]) = (Math.Sqrt(sse / n), sae / n, sst > 0 ? 1 - sse / sst : 0);
        }
        return new RegressionReport(targetNames, rmse, mae, r2, predicted, actual);
    }
}
