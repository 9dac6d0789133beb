using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Nabla.Cli;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Cli;

/// <summary>
/// The newer input surfaces under hostile input, through the CLI entry point as <see cref="HostileInputTests"/> does:
/// NPY headers NumPy would refuse, zero-width arrays, CSV label columns named twice and lines without end, standard
/// input decoded as files are, and user-named paths that are FIFOs or devices. Each refusal is one line, the right
/// exit code, no stack trace, bounded memory; and the command pairs that should accept the same inputs do.
/// </summary>
[Collection("Serial")]
public class HostileDataTests
{
    private static (int Code, string Out, string Err, long Allocated) Run(string[] args, Stream? stdin = null)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        int code = Program.Run(args, o, e, stdin);
        return (code, o.ToString(), e.ToString(), GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    private static void Refused((int Code, string Out, string Err, long Allocated) r, int code, string contains, long maxBytes = 1L << 30)
    {
        Assert.True(r.Code == code, $"exit {r.Code}, expected {code}: {r.Err}");
        Assert.StartsWith("nabla: error:", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("internal error", r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.Contains(contains, r.Err);
        Assert.True(r.Allocated < maxBytes, $"allocated {r.Allocated:N0} bytes");
    }

    private static string[] Quick(params string[] args) => [.. args, "--epochs", "1", "--hidden", "4", "--threads", "1", "--device", "cpu", "--quiet"];

    // ---- NPY ------------------------------------------------------------------------------------------------

    /// <summary>A version-1 .npy file with this header text (padded as NumPy pads it) and data.</summary>
    private static byte[] Npy(string dict, byte[] data, byte version = 1)
    {
        int prefix = version == 1 ? 10 : 12;
        int total = prefix + dict.Length + 1;
        dict += new string(' ', (64 - total % 64) % 64) + "\n";
        var header = Encoding.Latin1.GetBytes(dict);
        byte[] length = version == 1 ? [(byte)header.Length, (byte)(header.Length >> 8)] : [(byte)header.Length, (byte)(header.Length >> 8), 0, 0];
        return [0x93, .. "NUMPY"u8, version, 0, .. length, .. header, .. data];
    }

    private static string Dict(string shape, string descr = "'<f4'", string fortran = "False", string extra = "") =>
        $"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, {extra}}}";

    private static byte[] Floats(int n) => [.. Enumerable.Range(0, n).SelectMany(i => BitConverter.GetBytes((float)Math.Sin(i)))];

    private static byte[] Labels(int n, int classes = 2) => [.. Enumerable.Range(0, n).SelectMany(i => BitConverter.GetBytes((long)(i % classes)))];

    /// <summary>A valid npy folder: 40 training and 12 test samples of 3 features, 2 classes.</summary>
    private static void NpyFolder(TempDir dir)
    {
        File.WriteAllBytes(dir.File("x_train.npy"), Npy(Dict("(40, 3)"), Floats(120)));
        File.WriteAllBytes(dir.File("y_train.npy"), Npy(Dict("(40,)", "'<i8'"), Labels(40)));
        File.WriteAllBytes(dir.File("x_test.npy"), Npy(Dict("(12, 3)"), Floats(36)));
        File.WriteAllBytes(dir.File("y_test.npy"), Npy(Dict("(12,)", "'<i8'"), Labels(12)));
    }

    public static TheoryData<string, string> BadHeaders => new()
    {
        { Dict("(40, 3)", extra: "'extra': 1, "), "'extra'" },
        { "{'descr': '<f4', 'shape': (40, 3), }", "lacks 'fortran_order'" },
        { "['descr', '<f4']", "dict literal" },
        { Dict("(40, 3)", fortran: "0"), "a value that is not" },
        { Dict("[40, 3]"), "a value that is not" },
        { Dict("(40, 3)") + " junk", "text after the dict" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (40, 3), 'shape': (40, 3)}", "appears twice" },
        { Dict("(-40, 3)"), "non-negative integer" },
        { Dict("(40 3)"), "expected ')'" },
        { Dict("(120)"), "not a tuple" },
        { "__import__('os').system('true')", "dict literal" },
        { Dict("(40, 3)", descr: "[('a', '<f4')]"), "a value that is not" },
        { "{'descr': '<f4", "line break in a string" },
        { "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (40, 3)}", "a value that is not" },
        { Dict("(40, 3)", descr: "'<f4\\n'"), "escape" },
        { "", "dict literal" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Npy_HeaderNumPyWouldRefuse_IsRefused(string header, string message)
    {
        using var dir = new TempDir();
        NpyFolder(dir);
        File.WriteAllBytes(dir.File("x_train.npy"), Npy(header, Floats(120)));
        Refused(Run(Quick("train", "--dataset", "npy", "--data", dir.Path)), 1, message);
    }

    public static TheoryData<string, byte> GoodHeaders => new()
    {
        { Dict("(40, 3)"), 1 },
        { "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (40, 3)}", 1 },
        { "{'shape':(40,3),'fortran_order':False,'descr':'<f4'}", 1 },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (40L, 3L), }", 1 },
        { Dict("(40, 3,)"), 2 },
    };

    [Theory]
    [MemberData(nameof(GoodHeaders))]
    public void Npy_HeadersAsNumPyWritesThem_AreRead(string header, byte version)
    {
        using var dir = new TempDir();
        NpyFolder(dir);
        File.WriteAllBytes(dir.File("x_train.npy"), Npy(header, Floats(120), version));
        var r = Run(Quick("train", "--dataset", "npy", "--data", dir.Path));
        Assert.True(r.Code == 0, r.Err);
    }

    [Theory]
    [InlineData("'<f4'")] // mapped where it lies
    [InlineData("'<f8'")] // converted
    public void Npy_NotFiniteFeature_IsRefusedInOneLine_NamingTheElement(string descr)
    {
        using var dir = new TempDir();
        NpyFolder(dir);
        var values = Enumerable.Range(0, 120).Select(i => i == 7 ? double.PositiveInfinity : Math.Sin(i)).ToArray();
        byte[] data = descr == "'<f4'" ? [.. values.SelectMany(v => BitConverter.GetBytes((float)v))] : [.. values.SelectMany(BitConverter.GetBytes)];
        File.WriteAllBytes(dir.File("x_train.npy"), Npy(Dict("(40, 3)", descr), data));
        Refused(Run(Quick("train", "--dataset", "npy", "--data", dir.Path)), 1, "element 7 is Infinity, not a finite number");
    }

    [Theory]
    [InlineData("(40, 0)")]
    [InlineData("(40, 3, 0)")]
    public void Npy_ZeroFeatures_OneLineNotAnInternalError(string shape)
    {
        using var dir = new TempDir();
        NpyFolder(dir);
        File.WriteAllBytes(dir.File("x_train.npy"), Npy(Dict(shape), []));
        Refused(Run(Quick("train", "--dataset", "npy", "--data", dir.Path)), 1, "zero features");
    }

    [Fact]
    public void Npy_TrainedModel_EvalsAndPredictsOnTheSameFolder()
    {
        using var dir = new TempDir();
        NpyFolder(dir);
        string model = dir.File("m.safetensors");
        var r = Run([.. Quick("train", "--dataset", "npy", "--data", dir.Path, "--save", model), "--json"]);
        Assert.True(r.Code == 0, r.Err);
        double trained = JsonDocument.Parse(r.Out.Trim().Split('\n')[^1]).RootElement.GetProperty("test_accuracy").GetDouble();
        // The model file says how its data was read: eval needs no --dataset, and finds x_test.npy, not a *test*.csv.
        r = Run(["eval", model, "--data", dir.Path, "--json"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(trained, JsonDocument.Parse(r.Out).RootElement.GetProperty("test_accuracy").GetDouble(), 2);
        r = Run(["eval", model, "--dataset", "npy", "--data", dir.Path, "--json"]);
        Assert.True(r.Code == 0, r.Err);
        r = Run(["predict", model, dir.File("x_test.npy"), "--json"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(12, JsonDocument.Parse(r.Out).RootElement.GetProperty("predictions").GetArrayLength());
        Refused(Run(["predict", model, dir.File("y_test.npy")]), 1, "rows of 3 features");

        // Without --dataset, the folder is recognized as NumPy arrays (and said so).
        r = Run(Quick("train", "--data", dir.Path).Where(a => a != "--quiet").ToArray());
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("reading it as --dataset npy", r.Out);

        // Standardized arrays: the scaling is the model's first layer, so eval and predict on the raw arrays agree.
        r = Run([.. Quick("train", "--dataset", "npy", "--data", dir.Path, "--scale", "standardize", "--save", model), "--json"]);
        Assert.True(r.Code == 0, r.Err);
        trained = JsonDocument.Parse(r.Out.Trim().Split('\n')[^1]).RootElement.GetProperty("test_accuracy").GetDouble();
        Assert.IsType<Nabla.NN.ColumnTransformer>(Nabla.IO.ModelFile.Load(model).Model.Layers[0]);
        r = Run(["eval", model, "--data", dir.Path, "--json"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(trained, JsonDocument.Parse(r.Out).RootElement.GetProperty("test_accuracy").GetDouble(), 2);
    }

    // ---- CSV ------------------------------------------------------------------------------------------------

    private static void Table(string path, string header, int rows, int seed)
    {
        var rng = new Random(seed);
        var lines = new List<string> { header };
        int columns = header.Split(',').Length;
        for (int i = 0; i < rows; i++)
            lines.Add(string.Join(',', Enumerable.Range(0, columns).Select(j => j == 1 ? (i % 2).ToString(CultureInfo.InvariantCulture)
                : (rng.NextDouble() * 4 + (i % 2)).ToString("F3", CultureInfo.InvariantCulture))));
        File.WriteAllLines(path, lines);
    }

    [Fact]
    public void Csv_ALabelColumnNamedTwice_IsRefused_NamingBothPositions()
    {
        using var dir = new TempDir();
        Table(dir.File("t_train.csv"), "a,label,b,label", 40, 1);
        Table(dir.File("t_test.csv"), "a,label,b,label", 10, 2);
        Refused(Run(Quick("train", "--dataset", "csv", "--data", dir.Path, "--label-column", "label")), 1, "column 2 and column 4");
        Refused(Run(Quick("train", "--dataset", "csv", "--data", dir.Path, "--label-column", "label", "--task", "regression")), 1, "column 2 and column 4");
    }

    [Fact]
    public void Csv_AHugeLineWithoutNewline_IsRefusedBeforeItIsBufferedWhole()
    {
        using var dir = new TempDir();
        Table(dir.File("t_test.csv"), "a,label,b", 10, 2);
        using (var f = new StreamWriter(dir.File("t_train.csv")))
        {
            var chunk = new string('7', 1 << 20);
            for (int i = 0; i < 50; i++) f.Write(chunk); // 50 MB, one line, no newline
        }
        var r = Run(Quick("train", "--dataset", "csv", "--data", dir.Path));
        Refused(r, 1, "longer than 16,777,216 characters", maxBytes: 400L << 20);
    }

    [Fact]
    public void Csv_AWideRow_UnderTheBound_IsRead()
    {
        using var dir = new TempDir();
        string header = "a,label," + string.Join(',', Enumerable.Range(0, 3000).Select(j => $"f{j}"));
        Table(dir.File("t_train.csv"), header, 20, 1);
        Table(dir.File("t_test.csv"), header, 6, 2);
        var r = Run(Quick("train", "--dataset", "csv", "--data", dir.Path, "--label-column", "label"));
        Assert.True(r.Code == 0, r.Err);
    }

    public static TheoryData<string, string> BadTables => new()
    {
        { "wide", "at most 1,000,000" },
        { "identifier", "more than 1,000 distinct values of text" },
        { "stray-word", "'oops' is not a number, though most of the column's values are" },
        { "only-gaps", "holds only gaps" },
        { "header-only", "no data rows" },
        { "label-only", "every column is a label" },
        { "semicolons", "are the cells separated by ';' rather than ','? Give the delimiter. (--delimiter)" },
    };

    [Theory]
    [MemberData(nameof(BadTables))]
    public void Table_ThatCannotBeLearnt_IsRefusedWithItsReason_InBoundedMemory(string kind, string message)
    {
        using var dir = new TempDir();
        var sb = new StringBuilder();
        switch (kind)
        {
            case "wide": // 1.5 million columns on 3 lines: refused at the first, before per-column state exists
                for (int r = 0; r < 3; r++) sb.Append(string.Join(',', Enumerable.Repeat("1", 1_500_000))).Append('\n');
                break;
            case "identifier": // a unique text per row: not a category
                sb.Append("id,x,label\n");
                for (int r = 0; r < 3000; r++) sb.Append(CultureInfo.InvariantCulture, $"user{r},{r % 7},{r % 2}\n");
                break;
            case "stray-word":
                sb.Append("x,y,label\n");
                for (int r = 0; r < 50; r++) sb.Append(CultureInfo.InvariantCulture, $"{(r == 31 ? "oops" : r.ToString(CultureInfo.InvariantCulture))},{r % 3},{r % 2}\n");
                break;
            case "only-gaps":
                sb.Append("x,y,label\n");
                for (int r = 0; r < 20; r++) sb.Append(CultureInfo.InvariantCulture, $"NA,{r},{r % 2}\n");
                break;
            case "header-only": sb.Append("x,y,label\n"); break;
            case "semicolons":
                sb.Append("x;y;label\n");
                for (int r = 0; r < 20; r++) sb.Append(CultureInfo.InvariantCulture, $"{r};{r % 3};{r % 2}\n");
                break;
            case "label-only":
                sb.Append("label\n");
                for (int r = 0; r < 20; r++) sb.Append(CultureInfo.InvariantCulture, $"{r % 2}\n");
                break;
        }
        File.WriteAllText(dir.File("t.csv"), sb.ToString());
        string[] label = kind is "wide" ? [] : ["--label-column", "label"];
        Refused(Run(Quick(["train", "--data", dir.File("t.csv"), .. label])), 1, message, maxBytes: 600L << 20);
    }

    // ---- standard input -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("utf-8-bom", "\n")]
    [InlineData("utf-8-bom", "\r\n")]
    [InlineData("utf-16le-bom", "\r\n")]
    [InlineData("utf-16be-bom", "\n")]
    [InlineData("utf-8", "\r\n")]
    public void Stdin_IsDecodedLikeAFile_BomAndLineEnds(string encoding, string newline)
    {
        using var dir = new TempDir();
        Table(dir.File("t_train.csv"), "a,label,b", 60, 1);
        Table(dir.File("t_test.csv"), "a,label,b", 10, 2);
        string model = dir.File("m.safetensors");
        var r = Run(Quick("train", "--dataset", "csv", "--data", dir.Path, "--label-column", "label", "--save", model));
        Assert.True(r.Code == 0, r.Err);
        // Columns by name, the first one first: a mark that stayed in the first name would make 'b' unknown.
        string text = string.Join(newline, "b,a", "1.5,0.25", "3.5,2.5") + newline;
        Encoding e = encoding switch
        {
            "utf-16le-bom" => new UnicodeEncoding(bigEndian: false, byteOrderMark: true),
            "utf-16be-bom" => new UnicodeEncoding(bigEndian: true, byteOrderMark: true),
            "utf-8-bom" => new UTF8Encoding(true),
            _ => new UTF8Encoding(false),
        };
        byte[] bytes = [.. e.GetPreamble(), .. e.GetBytes(text)];
        File.WriteAllBytes(dir.File("rows.csv"), bytes);
        var fromFile = Run(["predict", model, dir.File("rows.csv"), "--json"]);
        Assert.True(fromFile.Code == 0, fromFile.Err);
        var fromStdin = Run(["predict", model, "-", "--json"], new MemoryStream(bytes));
        Assert.True(fromStdin.Code == 0, fromStdin.Err);
        Assert.Equal(fromFile.Out.Replace(dir.File("rows.csv"), "-"), fromStdin.Out);
        Assert.Equal(2, JsonDocument.Parse(fromStdin.Out).RootElement.GetProperty("predictions").GetArrayLength());
    }

    // ---- paths that are not regular files -------------------------------------------------------------------

    public static TheoryData<string> SpecialFiles => new() { "fifo", "/dev/zero", "/dev/null" };

    [Theory]
    [MemberData(nameof(SpecialFiles))]
    public void UserNamedPaths_ThatAreFifosOrDevices_AreRefusedAtOnce(string what)
    {
        using var dir = new TempDir();
        Table(dir.File("t_train.csv"), "a,label,b", 40, 1);
        Table(dir.File("t_test.csv"), "a,label,b", 10, 2);
        string model = dir.File("m.safetensors");
        Assert.Equal(0, Run(Quick("train", "--dataset", "csv", "--data", dir.Path, "--label-column", "label", "--save", model)).Code);
        string odd = dir.File("odd");
        if (what == "fifo") TempDir.MakeFifo(odd);
        else File.CreateSymbolicLink(odd, what);
        string kind = what == "fifo" ? "a FIFO" : "a character device";
        var clock = Stopwatch.StartNew();
        Refused(Run(["predict", odd, dir.File("t_test.csv")]), 1, kind);                          // a model file
        Refused(Run(["predict", model, odd + ".csv"]), 1, "file not found");                    // (the control: a missing file)
        File.Move(odd, odd + ".csv");
        Refused(Run(["predict", model, odd + ".csv"]), 1, kind);                                 // rows
        Refused(Run(["summary", odd + ".csv"]), 1, kind);
        Refused(Run([.. Quick("train", "--dataset", "csv", "--data", dir.Path, "--label-column", "label"), "--resume", odd + ".csv"]), 1, kind);
        File.Move(dir.File("t_test.csv"), dir.File("real.csv"));
        File.Move(odd + ".csv", dir.File("t_test.csv"));
        Refused(Run(Quick("train", "--dataset", "csv", "--data", dir.Path, "--label-column", "label")), 1, kind); // a data file
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    [Fact]
    public void AnImageModel_IsEvaluatedOnTheDatasetItWasTrainedOn_NotTheDefault()
    {
        using var dir = new TempDir();
        dir.WriteDataset(train: 40, test: 10);
        string model = dir.File("m.safetensors");
        Assert.Equal(0, Run(["train", "--dataset", "mnist", "--data", dir.Path, "--epochs", "1", "--hidden", "4", "--threads", "1", "--device", "cpu", "--quiet", "--save", model]).Code);
        Assert.Contains("\"source\":\"mnist\"", Nabla.IO.ModelFile.Load(model).Metadata["nabla.input"]);
        var r = Run(["eval", model, "--data", dir.Path]);
        Assert.True(r.Code == 0, r.Err);
        Refused(Run(["eval", model, "--dataset", "csv", "--data", dir.Path]), 2, "images");
    }

    [Fact]
    public void AnImageThatIsAFifo_IsRefusedAtOnce()
    {
        using var dir = new TempDir();
        dir.WriteDataset(train: 40, test: 10);
        string model = dir.File("m.safetensors");
        Assert.Equal(0, Run(["train", "--data", dir.Path, "--epochs", "1", "--hidden", "4", "--threads", "1", "--device", "cpu", "--quiet", "--save", model]).Code);
        TempDir.MakeFifo(dir.File("x.png"));
        Refused(Run(["predict", model, dir.File("x.png")]), 1, "a FIFO");
    }
}
