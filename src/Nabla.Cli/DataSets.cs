using Nabla.Data;

namespace Nabla.Cli;

/// <summary>Turns --dataset and --data into train and test sets, finding or downloading the files.</summary>
internal static class DataSets
{
    public static (IDataset Train, IDataset Test, string Source) Load(string dataset, string? data)
    {
        if (dataset == "csv") return LoadCsv(data);
        var spec = dataset == "mnist" ? Mnist.Spec : FashionMnist.Spec;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var locator = new DatasetLocator
        {
            EnvironmentDirectory = Environment.GetEnvironmentVariable("NABLA_DATA"),
            Downloader = new Downloader(http, new ProgressBar(Console.Error)),
        };
        string dir = locator.Locate(spec, data);
        var (train, test) = DatasetLocator.Load(spec, dir, rawCache: Path.Combine(locator.CacheRoot, "raw"));
        return (train, test, dir);
    }

    private static (IDataset, IDataset, string) LoadCsv(string? data)
    {
        if (data is null) throw new UsageException("--dataset csv needs --data: a folder holding a *train*.csv and a *test*.csv (label first, then features).");
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder.");
        string Pick(string kind)
        {
            var found = Directory.GetFiles(data, $"*{kind}*.csv");
            return found.Length == 1 ? found[0]
                : throw new DataFormatException($"{data}: expected exactly one *{kind}*.csv file; found {found.Length}.");
        }
        var train = CsvDataset.Load(Pick("train"));
        var test = CsvDataset.Load(Pick("test"), classNames: train.ClassNames);
        if (test.Features != train.Features)
            throw new DataFormatException($"{data}: the test CSV has {test.Features} features per row; the train CSV has {train.Features}.");
        return (train, test, data);
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
