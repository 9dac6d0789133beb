using Nabla.Data;
using Nabla.NN;

namespace Nabla.Training;

/// <summary>
/// How a classifier does on a dataset: accuracy, the confusion matrix (rows: true class, columns: predicted), and
/// per-class precision, recall and F1.
/// </summary>
public sealed class ClassificationReport
{
    private ClassificationReport(int[,] confusion, IReadOnlyList<string> classNames, List<(int, int)> misclassified, double loss)
    {
        Loss = loss;
        Confusion = confusion;
        ClassNames = classNames;
        Misclassified = misclassified;
    }

    /// <summary>The mean cross-entropy of the model's logits (what <see cref="Trainer.Test"/> reports as its loss).</summary>
    public double Loss { get; }

    /// <summary>The first 100 misclassified samples: (index in the dataset, predicted class).</summary>
    public IReadOnlyList<(int Index, int Predicted)> Misclassified { get; }

    /// <summary>Confusion[t, p]: samples of true class t predicted as p.</summary>
    public int[,] Confusion { get; }

    /// <summary>Label names.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Samples seen.</summary>
    public int Count => Enumerable.Range(0, ClassNames.Count).Sum(t => Enumerable.Range(0, ClassNames.Count).Sum(p => Confusion[t, p]));

    /// <summary>Fraction classified right.</summary>
    public double Accuracy => Count == 0 ? 0 : (double)Enumerable.Range(0, ClassNames.Count).Sum(c => Confusion[c, c]) / Count;

    /// <summary>TP / (TP + FP) for class <paramref name="c"/> (0 when nothing was predicted as c).</summary>
    public double Precision(int c)
    {
        int predicted = Enumerable.Range(0, ClassNames.Count).Sum(t => Confusion[t, c]);
        return predicted == 0 ? 0 : (double)Confusion[c, c] / predicted;
    }

    /// <summary>TP / (TP + FN) for class <paramref name="c"/> (0 when the class does not occur).</summary>
    public double Recall(int c)
    {
        int actual = Enumerable.Range(0, ClassNames.Count).Sum(p => Confusion[c, p]);
        return actual == 0 ? 0 : (double)Confusion[c, c] / actual;
    }

    /// <summary>Harmonic mean of precision and recall.</summary>
    public double F1(int c)
    {
        double p = Precision(c), r = Recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /// <summary>Runs <paramref name="model"/> (in evaluation mode) over <paramref name="data"/>: tallies its predictions and averages its loss.</summary>
    public static ClassificationReport Evaluate(Module model, IDataset data, int batchSize = 256)
    {
        int classes = data.Classes;
        var confusion = new int[classes, classes];
        var wrong = new List<(int, int)>();
        int seen = 0;
        double lossSum = 0;
        float[] dLogits = []; // the fused kernel's gradient output, unused here
        // Built-in layers run the explicit form over reused buffers; any other module its tensor forward.
        var engine = model is Sequential seq && ExplicitEngine.Supports(seq) ? new BatchEngine(seq, data.Features, batchSize) : null;
        int outputs = engine?.OutputFeatures ?? 0;
        ReadOnlySpan<float> Logits(Batch batch)
        {
            if (engine is not null) return engine.Forward(batch.Features, batch.Size);
            using (Autograd.GradMode.NoGrad())
            {
                var y = model.Forward(Tensors.Tensor.FromArray(batch.Features.AsSpan(0, batch.Size * data.Features).ToArray(), batch.Size, data.Features));
                outputs = y.Shape[y.Rank - 1];
                return y.Data;
            }
        }
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            foreach (var batch in new DataLoader(data, batchSize))
            {
                var logits = Logits(batch);
                for (int r = 0; r < batch.Size; r++)
                {
                    int predicted = TensorPrimitives.IndexOfMax(logits.Slice(r * outputs, outputs));
                    if (predicted >= classes)
                        throw new DataFormatException($"The model has {outputs} outputs but the dataset only {classes} classes.");
                    confusion[batch.Labels[r], predicted]++;
                    if (predicted != batch.Labels[r] && wrong.Count < 100) wrong.Add((seen + r, predicted));
                }
                if (dLogits.Length < logits.Length) dLogits = new float[logits.Length];
                lossSum += (double)Tensors.Kernels.CrossEntropy.ForwardBackward(logits, batch.Labels.AsSpan(0, batch.Size), dLogits, batch.Size, outputs) * batch.Size;
                seen += batch.Size;
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return new ClassificationReport(confusion, data.ClassNames, wrong, lossSum / Math.Max(seen, 1));
    }
}
