using Nabla.Data;

namespace Nabla.Cli;

/// <summary>Turns --dataset and --data into train and test sets, finding or downloading the files.</summary>
internal static class DataSets
{
    /// <summary>
    /// For a built-in image set (28×28 images, 10 classes), starts compiling the CPU training path of this model in
    /// the background while its files load (<see cref="Training.Warmup"/>); nothing for other data, whose shape is
    /// known only once read.
    /// </summary>
    public static void WarmUp(string dataset, int[] hidden, NN.ActivationKind activation, float dropout, int batch, Optim.OptimizerKind[] optimizers)
    {
        if (dataset is not ("fashion-mnist" or "mnist")) return;
        // A failed warm-up costs only speed; NABLA_TRACE=1 says what it was.
        Training.Warmup.Start(new NN.MlpArchitecture(28 * 28, hidden, activation, 10, dropout), batch, optimizers, 28, 28,
            e => { if (Environment.GetEnvironmentVariable("NABLA_TRACE") == "1") Console.Error.WriteLine($"nabla: trace: the warm-up failed (the run goes on): {e}"); });
    }

    public static (IDataset Train, IDataset Test, string Source) Load(string dataset, string? data)
    {
        var (train, test, source, _, _) = Load(dataset, data, new CsvOptions(), FeatureScaling.Divide255);
        return (train, test, source);
    }

    /// <summary>
    /// The dataset --dataset names, or the one --data holds when --dataset is not given: a CSV file or a folder of CSV
    /// tables is csv, a folder of x_train.npy and its kin is npy, anything else the default Fashion-MNIST. A
    /// recognized kind is said once on <paramref name="info"/>.
    /// </summary>
    public static string Resolve(string? dataset, string? data, bool regression, TextWriter info)
    {
        if (dataset is not null) return dataset;
        string? found = data switch
        {
            null => null,
            _ when File.Exists(data) && data.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) => "csv",
            _ when Directory.Exists(data) && File.Exists(Path.Combine(data, "x_train.npy")) => "npy",
            _ when Directory.Exists(data) && Directory.GetFiles(data, "*.csv").Length > 0
                && !Directory.EnumerateFiles(data, "*-ubyte*").Any() => "csv",
            _ => null,
        };
        if (found is null && regression) throw new UsageException("--task regression reads tables: give --data a CSV file or a folder of CSV tables (or --dataset csv).");
        if (found is not null) info.WriteLine($"nabla: --data {data} holds {(found == "csv" ? "CSV tables" : "NumPy arrays")}: reading it as --dataset {found}.");
        return found ?? "fashion-mnist";
    }

    /// <summary>
    /// The data sets of an image dataset or of NumPy arrays, how their inputs were read (what a saved model records),
    /// and for arrays scaled by --scale the preprocessing that becomes the model's first layer. (Tables: <see cref="TableData"/>.)
    /// </summary>
    public static (IDataset Train, IDataset Test, string Source, InputSpec Input, TablePreprocessor? Preprocessor) Load(string dataset, string? data, CsvOptions csv,
        FeatureScaling scaling, int imageHeight = 28, int imageWidth = 28)
    {
        if (dataset == "csv") throw new InvalidOperationException("Tables are read by TableData.");
        if (dataset == "npy") return LoadNpy(data, scaling);
        if (dataset == "folder")
        {
            var (tr, te, src, input) = LoadFolder(data, imageHeight, imageWidth);
            return (tr, te, src, input, null);
        }
        var spec = dataset == "mnist" ? Mnist.Spec : FashionMnist.Spec;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var locator = new DatasetLocator
        {
            EnvironmentDirectory = Environment.GetEnvironmentVariable("NABLA_DATA"),
            Downloader = new Downloader(http, new ProgressBar(Console.Error)),
        };
        string dir = locator.Locate(spec, data);
        var (train, test) = DatasetLocator.Load(spec, dir, rawCache: Path.Combine(locator.CacheRoot, "raw"));
        return (train, test, dir, InputSpec.Image(train.Height, train.Width, dataset == "mnist" ? "mnist" : "fashion-mnist"), null);
    }

    /// <summary>
    /// NumPy arrays, Keras's names: x_train.npy, y_train.npy, x_test.npy, y_test.npy. Scaled as --scale says, by a
    /// preprocessing layer of numeric columns fitted on x_train (none by default: the arrays as they are).
    /// </summary>
    private static (IDataset, IDataset, string, InputSpec, TablePreprocessor?) LoadNpy(string? data, FeatureScaling scaling)
    {
        if (data is null) throw new UsageException("--dataset npy needs --data DIR: a folder holding x_train.npy, y_train.npy, x_test.npy and y_test.npy.");
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder.");
        string F(string name) => Path.Combine(data, name);
        var train = NpyReader.Dataset(F("x_train.npy"), F("y_train.npy"));
        var test = NpyReader.Dataset(F("x_test.npy"), F("y_test.npy"), train.ClassNames);
        if (test.Features != train.Features)
            throw new DataFormatException($"{data}: x_test.npy has {test.Features} features per sample; x_train.npy has {train.Features}.");
        string[] names = [.. Enumerable.Range(0, train.Features).Select(i => $"x{i}")];
        var input = new InputSpec("table", new CsvOptions(), names) { Source = "npy" };
        if (scaling == FeatureScaling.None) return (train, test, data, input, null);
        // Fitted on the features where they lie (a mapped file's pages), not on a copy.
        var pre = TablePreprocessor.Fit([.. names.Select(n => new TableColumn(n, ColumnKind.Numeric))], train.FeatureMemory.Span, scaling, impute: false);
        return (train, test, data, input, pre);
    }

    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg"];

    /// <summary>
    /// torchvision's ImageFolder: a sub-folder per class, in DIR/train and DIR/test, or in DIR itself with a seeded
    /// fifth held out as the test set. Every image is converted as <c>predict</c> converts one (grayscale, resized,
    /// light backgrounds inverted), so training and prediction see the same pixels.
    /// </summary>
    private static (IDataset, IDataset, string, InputSpec) LoadFolder(string? data, int height, int width)
    {
        if (data is null) throw new UsageException("--dataset folder needs --data DIR: a folder with a sub-folder per class (in DIR/train and DIR/test, or directly).");
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder.");
        string trainDir = Path.Combine(data, "train"), testDir = Path.Combine(data, "test");
        bool given = Directory.Exists(trainDir) && Directory.Exists(testDir);
        string root = given ? trainDir : data;
        var classes = Directory.GetDirectories(root).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToArray();
        if (classes.Length < 2) throw new DataFormatException($"{root}: {classes.Length} class folder(s); a classifier needs at least two (one sub-folder per class).");
        (byte[] Pixels, byte[] Labels) Read(string dir)
        {
            var pixels = new List<byte>();
            var labels = new List<byte>();
            for (int c = 0; c < classes.Length; c++)
            {
                string folder = Path.Combine(dir, classes[c]);
                if (!Directory.Exists(folder)) continue;
                foreach (var file in Directory.EnumerateFiles(folder).Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal))
                {
                    var x = Imaging.LoadGrayscale(file, width, height);
                    pixels.AddRange(x.Select(v => (byte)Math.Clamp(MathF.Round(v * 255f), 0, 255)));
                    labels.Add((byte)c);
                }
            }
            if (labels.Count == 0) throw new DataFormatException($"{dir}: no PNG or JPEG images in its class folders.");
            return ([.. pixels], [.. labels]);
        }
        if (classes.Length > 256) throw new DataFormatException($"{root}: {classes.Length} class folders; at most 256.");
        var (trainPixels, trainLabels) = Read(root);
        byte[] testPixels, testLabels;
        if (given) (testPixels, testLabels) = Read(testDir);
        else
        {
            // A fixed, seeded fifth of the images is the test set.
            int n = trainLabels.Length, features = height * width, hold = Math.Max(1, n / 5);
            if (n < 2) throw new DataFormatException($"{root}: {n} image(s); at least two are needed to hold out a test set.");
            var order = Enumerable.Range(0, n).ToArray();
            new Nabla.Tensors.Rng(0xF01DE5UL).Shuffle(order);
            var test = order[..hold].Order().ToArray();
            var train = order[hold..].Order().ToArray();
            byte[] Pick(byte[] src, int[] rows, int size) => [.. rows.SelectMany(r => src.AsSpan(r * size, size).ToArray())];
            (testPixels, testLabels) = (Pick(trainPixels, test, features), Pick(trainLabels, test, 1));
            (trainPixels, trainLabels) = (Pick(trainPixels, train, features), Pick(trainLabels, train, 1));
        }
        return (new ImageDataset(trainPixels, trainLabels, height, width, classes, "folder train set"),
                new ImageDataset(testPixels, testLabels, height, width, classes, "folder test set"), data, InputSpec.Image(height, width, "folder"));
    }

    /// <summary>The test arrays of a model trained on --dataset npy (x_test.npy, y_test.npy); its first layer, if any, scales them.</summary>
    public static IDataset LoadNpyTest(string? data, IO.LoadedModel model)
    {
        if (data is null) throw new UsageException("this model was trained on NumPy arrays: give --data, a folder holding x_test.npy and y_test.npy.");
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder.");
        var test = NpyReader.Dataset(Path.Combine(data, "x_test.npy"), Path.Combine(data, "y_test.npy"), model.ClassNames);
        if (test.Features != model.InputFeatures)
            throw new DataFormatException($"{Path.Combine(data, "x_test.npy")}: {test.Features} features per sample; the model takes {model.InputFeatures}.");
        return test;
    }

    /// <summary>A one-line text progress bar on stderr for downloads.</summary>
    private sealed class ProgressBar(TextWriter w) : IProgress<DownloadProgress>
    {
        private long _last = -1;

        public void Report(DownloadProgress p)
        {
            long step = p.Bytes / (256 * 1024);
            bool done = p.Total is long t && p.Bytes == t;
            if (step == _last && !done) return;
            _last = step;
            string bar = p.Total is long total && total > 0
                ? $"[{new string('#', (int)(30 * p.Bytes / total)).PadRight(30)}] {100.0 * p.Bytes / total,5:F1} %"
                : $"{p.Bytes / 1024} KiB";
            w.Write($"\rDownloading {p.File} {bar}");
            if (done) w.WriteLine();
        }
    }
}
