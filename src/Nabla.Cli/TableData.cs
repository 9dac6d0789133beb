using Nabla.Data;
using Nabla.IO;
using Nabla.NN;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>How <c>train</c> reads a table: the reading options, the input scaling, the held-out fraction and the run's seed.</summary>
internal sealed record TableSettings(TableOptions Options, FeatureScaling Scaling, float TestSplit, ulong Seed);

/// <summary>
/// Tables for the commands: a training table (one file split into training and test rows, or a folder's
/// <c>*train*.csv</c> and <c>*test*.csv</c>) with its preprocessing fitted on the training rows, and the rows a trained
/// model is evaluated on or predicts, read against its columns.
/// </summary>
internal static class TableData
{
    /// <summary>A table ready to train on: raw rows (the model's first layer preprocesses them), the fitted preprocessing, and what the model file records.</summary>
    public static (IDataset Train, IDataset Test, string Source, InputSpec Input, TablePreprocessor? Preprocessor) Load(string? data, TableSettings s, TextWriter warn)
    {
        if (data is null) throw new UsageException("--dataset csv needs --data: a CSV file (a seeded fifth held out as the test set; --test-split), or a folder holding a *train*.csv and a *test*.csv.");
        RawTable train;
        IDataset trainSet, testSet;
        TablePreprocessor pre;
        TableSplit? split = null;
        if (File.Exists(data))
        {
            var all = TableCache.Read(data, s.Options, CacheFolder());
            Warn(all, warn);
            var hold = HoldOut.Split(all.Rows, s.Options.Regression ? [] : all.Labels, s.TestSplit, new RunSeeds(s.Seed).TestSplit());
            split = new TableSplit(Path.GetFileName(data), all.Rows, s.TestSplit, s.Seed, !s.Options.Regression, hold.Test.Length, hold.Hash);
            // Views of the rows, not copies: a mapped table stays one copy per host.
            pre = TablePreprocessor.Fit(all.Columns, all.Values.Span, s.Scaling, s.Options.Impute, hold.Train);
            var rows = all.ToDataset();
            (train, trainSet, testSet) = (all, new Subset(rows, hold.Train), new Subset(rows, hold.Test));
        }
        else if (Directory.Exists(data))
        {
            train = TableCache.Read(Pick(data, "train"), s.Options, CacheFolder());
            Warn(train, warn);
            // The test file is read against the fitted columns: its gaps are filled as the model will fill them.
            pre = TablePreprocessor.Fit(train.Columns, train.Values.Span, s.Scaling, s.Options.Impute);
            var test = TableReader.Read(Pick(data, "test"), s.Options, new TableSchema(pre.Columns, train.ClassNames, train.TargetNames), requireLabels: true);
            Warn(test, warn);
            (trainSet, testSet) = (train.ToDataset(), test.ToDataset());
        }
        else throw new UsageException($"--data {data}: no such file or folder.");
        var input = new InputSpec("table", s.Options.Csv, [.. train.Columns.Select(c => c.Name)], train.LabelName)
        {
            Source = "csv", Regression = s.Options.Regression, TargetNames = s.Options.Regression ? train.TargetNames : null,
            Drop = s.Options.Drop, Split = split,
        };
        return (trainSet, testSet, data, input, pre);
    }

    /// <summary>
    /// A table's training and test sets with its default preprocessing applied to them (standardized, gaps filled,
    /// categories one-hot), for a command that builds plain models of its own (<c>compare</c>).
    /// </summary>
    public static (IDataset Train, IDataset Test) Encoded(string? data, ulong seed, TextWriter warn)
    {
        var settings = new TableSettings(new TableOptions(), FeatureScaling.Standardize, 0.2f, seed);
        var (train, test, _, _, pre) = Load(data, settings, warn);
        return (Encode(train, pre!), Encode(test, pre!));
    }

    /// <summary>Where parsed training tables are kept (<see cref="TableCache"/>): <c>tables</c> under the dataset cache (<c>$XDG_CACHE_HOME/nabla</c>).</summary>
    private static string CacheFolder() => Path.Combine(DatasetLocator.DefaultCacheRoot(), "tables");

    private static TensorDataset Encode(IDataset raw, TablePreprocessor pre)
    {
        var x = new float[raw.Count * raw.Features];
        var y = new int[raw.Count];
        raw.Gather([.. Enumerable.Range(0, raw.Count)], x, y);
        var features = new float[raw.Count * pre.OutputWidth];
        pre.Apply(x, features, raw.Count);
        return new TensorDataset(features, y, pre.OutputWidth, raw.ClassNames);
    }

    /// <summary>The one <c>*kind*.csv</c> of a folder.</summary>
    private static string Pick(string folder, string kind)
    {
        var found = Directory.GetFiles(folder, $"*{kind}*.csv");
        return found.Length == 1 ? found[0]
            : throw new DataFormatException($"{folder}: expected exactly one *{kind}*.csv file; found {found.Length}. Or give one CSV file as --data (a fifth of it is held out to test).");
    }

    /// <summary>Says, on stderr, that some cells held categories the model has not seen (encoded as all zeros).</summary>
    public static void Warn(RawTable t, TextWriter warn)
    {
        foreach (var note in t.Notes) warn.WriteLine($"nabla: warning: {t.Source}: {note} (--drop-columns)");
        if (t.Unseen > 0)
            warn.WriteLine($"nabla: warning: {t.Source}: {t.Unseen:N0} cell(s) hold a category the training file did not have (first: {t.FirstUnseen}); each is encoded as all zeros.");
    }

    /// <summary>What rows for <paramref name="model"/> must look like: its preprocessing's columns (or plain numeric columns), its classes or targets.</summary>
    public static TableSchema SchemaOf(LoadedModel model, InputSpec input)
    {
        IReadOnlyList<TableColumn> columns = model.Model.Layers[0] is ColumnTransformer ct ? ct.Preprocessor.Columns
            : [.. input.FeatureNames!.Select(n => new TableColumn(n, ColumnKind.Numeric))];
        return input.Regression ? new TableSchema(columns, [], input.TargetNames!) : new TableSchema(columns, model.ClassNames, []);
    }

    /// <summary>How the model's rows are read: its CSV dialect and label, its dropped columns.</summary>
    public static TableOptions OptionsOf(InputSpec input) => new() { Csv = input.Csv!, Regression = input.Regression, Drop = input.Drop };

    /// <summary>
    /// The test rows of a table model: the rows held out at training when <paramref name="data"/> is the file it was
    /// split from (redrawn and checked against the recorded split), a folder's <c>*test*.csv</c>, or every row of
    /// another file.
    /// </summary>
    public static IDataset LoadTest(string? data, LoadedModel model, InputSpec input, TextWriter warn, TextWriter info)
    {
        if (data is null)
            throw new UsageException(input.Split is { } s
                ? $"this model was trained on {s.File}: give it as --data to evaluate on {s}."
                : "this model reads tables: give --data, a CSV file or a folder holding a *test*.csv.");
        var schema = SchemaOf(model, input);
        var options = OptionsOf(input);
        if (Directory.Exists(data))
        {
            var test = TableReader.Read(Pick(data, "test"), options, schema, requireLabels: true);
            Warn(test, warn);
            return test.ToDataset();
        }
        if (!File.Exists(data)) throw new UsageException($"--data {data}: no such file or folder.");
        var all = TableReader.Read(data, options, schema, requireLabels: true);
        Warn(all, warn);
        if (input.Split is not { } split || Path.GetFileName(data) != split.File) return all.ToDataset();
        if (all.Rows != split.Rows)
            throw new DataFormatException($"{data}: {all.Rows:N0} rows, but the model's test rows were held out of {split.Rows:N0}: the file has changed since training.");
        var hold = HoldOut.Split(all.Rows, input.Regression ? [] : all.Labels, split.Fraction, new RunSeeds(split.Seed).TestSplit());
        if (hold.Hash != split.Hash)
            throw new DataFormatException($"{data}: its rows do not redraw the model's held-out split (the labels have changed since training).");
        info.WriteLine($"Test set: {split}");
        return all.Select(hold.Test).ToDataset();
    }
}
