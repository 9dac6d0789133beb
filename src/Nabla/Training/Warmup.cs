using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;

namespace Nabla.Training;

/// <summary>
/// Compiles the training path before the first real step: a throwaway model of the same architecture trains on two
/// synthetic batches on a background thread while the caller reads its data. With tiered compilation off (as the
/// CLI runs), each method is compiled fully optimized the first time it runs, and a training step's kernels take
/// tens of milliseconds to compile: without this they land in the first epoch, after the data is loaded, on the one
/// thread that is then working. The copy shares nothing with the real run but code: its own model, optimizers,
/// data and generators; the kernels read global settings (the worker pool, the SIMD path) without changing them,
/// and results never depend on which thread ran what, so a step that overlaps it computes the same bits.
/// </summary>
public static class Warmup
{
    /// <summary>
    /// Starts the warm-up on a background thread and returns it (join it to wait; nobody has to). The batches have
    /// the real run's size and shape, so that the same kernels are chosen: images of
    /// <paramref name="imageHeight"/>×<paramref name="imageWidth"/> bytes when given (they go through the same
    /// byte-to-float gather), feature vectors otherwise.
    /// </summary>
    /// <param name="architecture">The model's shape.</param>
    /// <param name="batch">The real run's batch size.</param>
    /// <param name="optimizers">The optimizers the run will use, in order.</param>
    /// <param name="imageHeight">Image height, for image data (0 otherwise).</param>
    /// <param name="imageWidth">Image width, for image data (0 otherwise).</param>
    /// <param name="failed">Told of anything the warm-up threw (it never ends the run: only speed is at stake).</param>
    public static Thread Start(MlpArchitecture architecture, int batch, IReadOnlyList<OptimizerKind> optimizers,
        int imageHeight = 0, int imageWidth = 0, Action<Exception>? failed = null)
    {
        var thread = new Thread(() => Run(architecture, batch, optimizers, imageHeight, imageWidth, failed))
        {
            IsBackground = true, Name = "nabla-warmup",
        };
        thread.Start();
        return thread;
    }

    /// <summary>
    /// The warm-up itself, on the calling thread: two steps of each optimizer, then an evaluation pass. A failure goes
    /// to <paramref name="failed"/> (a trace line, say) and no further: whatever went wrong will show, with a proper
    /// message, in the real run.
    /// </summary>
    public static void Run(MlpArchitecture architecture, int batch, IReadOnlyList<OptimizerKind> optimizers,
        int imageHeight = 0, int imageWidth = 0, Action<Exception>? failed = null)
    {
        try
        {
            var data = Synthetic(architecture, 2 * batch, imageHeight, imageWidth);
            var model = architecture.Create(new Rng(1), new Rng(2));
            var loader = DataLoader.Shuffled(data, batch, new Rng(3));
            var trainer = new Trainer(model, new CrossEntropyLoss(), OptimizerFactory.Create(optimizers.Count > 0 ? optimizers[0] : OptimizerKind.Sgd, model.Parameters()), architecture.Inputs, batch);
            foreach (var kind in optimizers)
            {
                trainer.Optimizer = OptimizerFactory.Create(kind, model.Parameters());
                trainer.TrainEpoch(loader);
            }
            trainer.Test(new DataLoader(data, batch));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            failed?.Invoke(e);
        }
    }

    private static IDataset Synthetic(MlpArchitecture a, int count, int height, int width)
    {
        var rng = new Rng(4);
        var names = Enumerable.Range(0, a.Classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => i % a.Classes).ToArray();
        if (height > 0 && width > 0 && height * width == a.Inputs)
        {
            var pixels = new byte[count * a.Inputs];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)rng.NextInt(256);
            return new ImageDataset(pixels, [.. labels.Select(l => (byte)l)], height, width, names, "warm-up");
        }
        var features = new float[count * a.Inputs];
        for (int i = 0; i < features.Length; i++) features[i] = rng.NextSingle();
        return new TensorDataset(features, labels, a.Inputs, names);
    }
}
