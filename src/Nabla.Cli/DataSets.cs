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
        Training.Warmup.Start(new NN.MlpArchitecture(28 * 28, hidden, activation, 10, dropout), batch, optimizers, 28, 28);
    }

    public static (IDataset Train, IDataset Test, string Source) Load(string dataset, string? data)
    {
        var (train, test, source, _) = Load(dataset, data, new CsvOptions(), FeatureScaling.None);
        return (train, test, source);
    }

    /// <summary>The data sets, and how their inputs were read and scaled (what a saved model records).</summary>
    public static (IDataset Train, IDataset Test, string Source, InputSpec Input) Load(string dataset, string? data, CsvOptions csv, FeatureScaling scaling,
        int imageHeight = 28, int imageWidth = 28, bool regression = false)
    {
        if (regression)
        {
            if (dataset != "csv") throw new UsageException("--task regression reads tables: use --dataset csv (the targets are --label-column, one or more).");
            return LoadCsvRegression(data, csv, scaling);
        }
        if (dataset == "csv") return LoadCsv(data, csv, scaling);
        if (dataset == "npy") return LoadNpy(data, scaling);
        if (dataset == "folder")
        {
            if (scaling == FeatureScaling.Standardize) throw new UsageException("--scale standardize is for tables (--dataset csv); images are scaled by 255.");
            return LoadFolder(data, imageHeight, imageWidth);
        }
        if (scaling == FeatureScaling.Standardize)
            throw new UsageException("--scale standardize is for tables (--dataset csv); images are scaled by 255.");
        var spec = dataset == "mnist" ? Mnist.Spec : FashionMnist.Spec;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var locator = new DatasetLocator
        {
            EnvironmentDirectory = Environment.GetEnvironmentVariable("NABLA_DATA"),
            Downloader = new Downloader(http, new ProgressBar(Console.Error)),
        };
        string dir = locator.Locate(spec, data);
        var (train, test) = DatasetLocator.Load(spec, dir, rawCache: Path.Combine(locator.CacheRoot, "raw"));
        return (train, test, dir, InputSpec.Image(train.Height, train.Width, dataset == "mnist" ? "mnist" : "fashion-mnist"));
    }

    private static (IDataset, IDataset, string, InputSpec) LoadCsv(string? data, CsvOptions csv, FeatureScaling scaling)
    {
        if (data is null) throw new UsageException("--dataset csv needs --data: a folder holding a *train*.csv and a *test*.csv (label first, then features).");
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder.");
        string Pick(string kind)
        {
            var found = Directory.GetFiles(data, $"*{kind}*.csv");
            return found.Length == 1 ? found[0]
                : throw new DataFormatException($"{data}: expected exactly one *{kind}*.csv file; found {found.Length}.");
        }
        var train = CsvDataset.Read(Pick("train"), csv);
        var test = CsvDataset.Read(Pick("test"), csv, train.Data.ClassNames);
        if (test.Data.Features != train.Data.Features)
            throw new DataFormatException($"{data}: the test CSV has {test.Data.Features} features per row; the train CSV has {train.Data.Features}.");
        // The scaling's statistics come from the training file only.
        var rawTrain = new float[train.Data.Count * train.Data.Features];
        train.Data.Gather([.. Enumerable.Range(0, train.Data.Count)], rawTrain, new int[train.Data.Count]);
        var scaler = FeatureScaler.Fit(scaling, rawTrain, train.Data.Features);
        var input = new InputSpec("table", scaler, csv, train.FeatureNames, train.LabelName) { Source = "csv" };
        return (InputSpec.Scaled(train.Data, scaler), InputSpec.Scaled(test.Data, scaler), data, input);
    }

    /// <summary>NumPy arrays, Keras's names: x_train.npy, y_train.npy, x_test.npy, y_test.npy; scaled as --scale says.</summary>
    private static (IDataset, IDataset, string, InputSpec) LoadNpy(string? data, FeatureScaling scaling)
    {
        if (data is null) throw new UsageException("--dataset npy needs --data DIR: a folder holding x_train.npy, y_train.npy, x_test.npy and y_test.npy.");
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder.");
        string F(string name) => Path.Combine(data, name);
        var train = NpyReader.Dataset(F("x_train.npy"), F("y_train.npy"));
        var test = NpyReader.Dataset(F("x_test.npy"), F("y_test.npy"), train.ClassNames);
        if (test.Features != train.Features)
            throw new DataFormatException($"{data}: x_test.npy has {test.Features} features per sample; x_train.npy has {train.Features}.");
        var raw = new float[train.Count * train.Features];
        train.Gather([.. Enumerable.Range(0, train.Count)], raw, new int[train.Count]);
        var scaler = FeatureScaler.Fit(scaling, raw, train.Features);
        var input = new InputSpec("table", scaler, new CsvOptions(), [.. Enumerable.Range(0, train.Features).Select(i => $"x{i}")]) { Source = "npy" };
        return (InputSpec.Scaled(train, scaler), InputSpec.Scaled(test, scaler), data, input);
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

    private static (IDataset, IDataset, string, InputSpec) LoadCsvRegression(string? data, CsvOptions csv, FeatureScaling scaling)
    {
        if (data is null) throw new UsageException("--dataset csv needs --data: a folder holding a *train*.csv and a *test*.csv.");
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder.");
        string Pick(string kind)
        {
            var found = Directory.GetFiles(data, $"*{kind}*.csv");
            return found.Length == 1 ? found[0] : throw new DataFormatException($"{data}: expected exactly one *{kind}*.csv file; found {found.Length}.");
        }
        var (train, features, targets) = CsvDataset.ReadRegression(Pick("train"), csv);
        var (test, _, _) = CsvDataset.ReadRegression(Pick("test"), csv);
        if (test.Features != train.Features || test.Targets != train.Targets)
            throw new DataFormatException($"{data}: the test CSV has {test.Features} features and {test.Targets} targets; the train CSV {train.Features} and {train.Targets}.");
        var raw = new float[train.Count * train.Features];
        train.Gather([.. Enumerable.Range(0, train.Count)], raw, new int[train.Count]);
        var scaler = FeatureScaler.Fit(scaling, raw, train.Features);
        var input = new InputSpec("table", scaler, csv, features, string.Join(',', targets)) { Regression = true, TargetNames = targets, Source = "csv" };
        return (train.WithFeatures(scaler.Apply), test.WithFeatures(scaler.Apply), data, input);
    }

    /// <summary>The test table of a regression model, read and scaled as the model records.</summary>
    public static Data.RegressionDataset LoadCsvRegressionTest(string? data, InputSpec input)
    {
        if (data is null) throw new UsageException("this model reads tables: give --data, a folder holding a *test*.csv.");
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder.");
        var found = Directory.GetFiles(data, "*test*.csv");
        if (found.Length != 1) throw new DataFormatException($"{data}: expected exactly one *test*.csv file; found {found.Length}.");
        var (test, _, _) = CsvDataset.ReadRegression(found[0], input.Csv!);
        if (test.Features != input.FeatureNames!.Count || test.Targets != input.TargetNames!.Count)
            throw new DataFormatException($"{found[0]}: {test.Features} features and {test.Targets} targets; the model takes {input.FeatureNames.Count} and predicts {input.TargetNames!.Count}.");
        return test.WithFeatures(input.Scaler.Apply);
    }

    /// <summary>The test arrays of a model trained on --dataset npy (x_test.npy, y_test.npy), scaled as the model records.</summary>
    public static IDataset LoadNpyTest(string? data, InputSpec input, IReadOnlyList<string> classNames)
    {
        if (data is null) throw new UsageException("this model was trained on NumPy arrays: give --data, a folder holding x_test.npy and y_test.npy.");
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder.");
        var test = NpyReader.Dataset(Path.Combine(data, "x_test.npy"), Path.Combine(data, "y_test.npy"), classNames);
        if (test.Features != input.FeatureNames!.Count)
            throw new DataFormatException($"{Path.Combine(data, "x_test.npy")}: {test.Features} features per sample; the model takes {input.FeatureNames.Count}.");
        return InputSpec.Scaled(test, input.Scaler);
    }

    /// <summary>The test table of a tabular model, read and scaled as the model records.</summary>
    public static IDataset LoadCsvTest(string? data, InputSpec input, IReadOnlyList<string> classNames)
    {
        if (data is null) throw new UsageException("this model reads tables: give --data, a folder holding a *test*.csv.");
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder.");
        var found = Directory.GetFiles(data, "*test*.csv");
        if (found.Length != 1) throw new DataFormatException($"{data}: expected exactly one *test*.csv file; found {found.Length}.");
        var table = CsvDataset.Read(found[0], input.Csv!, classNames);
        if (table.Data.Features != input.FeatureNames!.Count)
            throw new DataFormatException($"{found[0]}: {table.Data.Features} features per row; the model takes {input.FeatureNames.Count}.");
        return InputSpec.Scaled(table.Data, input.Scaler);
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
