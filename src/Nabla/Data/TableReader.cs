using System.Globalization;

namespace Nabla.Data;

/// <summary>
/// Reads CSV tables as a user's own data arrives: numeric and text columns, gaps, a header or none, the label (or the
/// regression targets) in any column. A training file is read twice, streaming (a first pass learns each column's
/// kind and vocabulary and whether the first line is a header, a second parses the values); a file for a trained model
/// is read once against the model's <see cref="TableSchema"/>, its columns matched by name when it has a header.
/// </summary>
/// <remarks>
/// A column is numeric when every cell that is not a gap is a number; categorical when it is declared so, or when
/// most of its cells are text. A column of numbers with a few words among them is refused, naming the first word,
/// rather than silently turned into categories. Gaps are what pandas reads as NaN by default: an empty cell,
/// <c>NA</c>, <c>NaN</c>, <c>N/A</c>, <c>null</c>, <c>None</c> and their spellings.
/// </remarks>
public static class TableReader
{
    // pandas' default na_values (pandas.read_csv), so a table prepared there reads the same here.
    private static readonly HashSet<string> MissingTokens = new(StringComparer.Ordinal)
    {
        "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
        "NULL", "NaN", "None", "n/a", "nan", "null",
    };

    /// <summary>Whether <paramref name="cell"/> is a gap (trimmed: empty, <c>NA</c>, <c>NaN</c>, …).</summary>
    public static bool IsMissing(string cell) => MissingTokens.Contains(cell.Trim());

    /// <summary>The most categories a declared categorical column may have.</summary>
    public const int MaxDeclaredCategories = 65_536;

    /// <summary>Reads a training table: learns the columns' kinds and vocabularies, and the classes.</summary>
    /// <exception cref="DataFormatException">The file is missing or not such a table; the message names the line and column.</exception>
    public static RawTable Read(string path, TableOptions options)
    {
        var scan = Scan(path, options);
        return Parse(path, options, scan);
    }

    /// <summary>Reads a table for a trained model (test rows, rows to predict), with its columns and classes.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Its dialect (the model's).</param>
    /// <param name="schema">The model's columns, and its classes or targets.</param>
    /// <param name="requireLabels">Whether rows must carry the label (test) or may lack it (prediction).</param>
    public static RawTable Read(string path, TableOptions options, TableSchema schema, bool requireLabels)
    {
        using var file = InputFile.OpenRead(path, bufferSize: 1 << 16);
        return Read(file, path, options, schema, requireLabels);
    }

    /// <summary>As <see cref="Read(string, TableOptions, TableSchema, bool)"/> from a stream (standard input); <paramref name="name"/> names it in errors.</summary>
    public static RawTable Read(Stream stream, string name, TableOptions options, TableSchema schema, bool requireLabels) =>
        new SchemaReader(name, options, schema, requireLabels).Read(stream);

    /// <summary>The non-blank lines of a file as cells (trimmed, quotes removed), ragged rows refused.</summary>
    internal static IEnumerable<(int Line, string[] Cells)> Rows(Stream stream, string name, char delimiter)
    {
        int width = -1;
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        int start = 0, length = 0;
        bool open = false; // inside a quoted field that continues on the next line
        foreach (var (line, text) in TextLines.Read(stream, name))
        {
            if (!open)
            {
                if (string.IsNullOrWhiteSpace(text)) continue;
                (start, length) = (line, 0);
                cells.Clear();
                cell.Clear();
            }
            else cell.Append('\n');
            length += text.Length + 1;
            if (length > TextLines.MaxLineChars)
                throw new DataFormatException($"{name}: the row starting at line {start} is longer than {TextLines.MaxLineChars:N0} characters (a quoted field left open?).");
            open = Split(text, delimiter, cells, cell, open);
            if (open) continue;
            if (width < 0) width = cells.Count;
            else if (cells.Count != width)
                throw new DataFormatException($"{name}: line {start} has {cells.Count} values; earlier lines have {width}.");
            yield return (start, [.. cells]);
        }
        if (open) throw new DataFormatException($"{name}: the quoted field opened at line {start} is never closed.");
    }

    /// <summary>
    /// Splits one line of CSV (RFC 4180, as pandas and spreadsheets write it): a field in double quotes may hold the
    /// delimiter, line breaks and doubled quotes (<c>""</c> for one) and keeps its spaces; an unquoted field is trimmed.
    /// Continues a quoted field from the previous line when <paramref name="open"/>; returns whether the line ends
    /// inside one. Written here because the core library takes no CSV package, and the rules are these few lines.
    /// </summary>
    private static bool Split(string line, char delimiter, List<string> cells, System.Text.StringBuilder cell, bool open)
    {
        int i = 0;
        while (true)
        {
            if (!open)
            {
                while (i < line.Length && line[i] == ' ') i++;
                if (i < line.Length && line[i] == '"') { open = true; i++; }
                else
                {
                    // An unquoted field: up to the delimiter, trimmed.
                    int end = line.IndexOf(delimiter, i);
                    if (end < 0) end = line.Length;
                    cells.Add(line[i..end].Trim());
                    if (end == line.Length) return false;
                    i = end + 1;
                    continue;
                }
            }
            // A quoted field: up to the closing quote; "" is a quote.
            for (; i < line.Length; i++)
            {
                if (line[i] != '"') { cell.Append(line[i]); continue; }
                if (i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; continue; }
                open = false;
                i++;
                break;
            }
            if (open) return true; // the field goes on on the next line
            // After the closing quote: anything up to the delimiter is kept as written (a lenient reading of "a"b).
            int next = line.IndexOf(delimiter, i);
            if (next < 0) next = line.Length;
            cell.Append(line.AsSpan(i, next - i).TrimEnd(' '));
            cells.Add(cell.ToString());
            cell.Clear();
            if (next == line.Length) return false;
            i = next + 1;
        }
    }

    private static bool IsNumber(string cell, out float v) =>
        float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && float.IsFinite(v);

    /// <summary>The widest table read: a line of more columns is refused (memory stays bounded by it).</summary>
    public const int MaxColumns = 1_000_000;

    /// <summary>
    /// What the first pass learns of each column — counts only, in arrays, so that a very wide table costs a few bytes a
    /// column: non-gap cells, numbers among them, the first text cell, and whether the first line's cell appears again.
    /// </summary>
    private sealed class Scanned(string[] first, int firstLine)
    {
        public readonly string[] First = first;
        public readonly int FirstLine = firstLine;
        public readonly int[] Cells = new int[first.Length], Numbers = new int[first.Length];
        public readonly (int Line, string Text)?[] FirstText = new (int, string)?[first.Length];
        public readonly bool[] FirstRepeats = new bool[first.Length];
        public int Rows;

        public void Count(int j, int line, string cell)
        {
            if (IsMissing(cell)) return;
            Cells[j]++;
            if (IsNumber(cell, out _)) Numbers[j]++;
            else if (FirstText[j] is null || FirstText[j]!.Value.Line > line) FirstText[j] = (line, cell);
        }
    }

    /// <summary>The first pass: per column, how many cells are numbers and the first text, the first line kept apart.</summary>
    private static Scanned Scan(string path, TableOptions options)
    {
        using var file = InputFile.OpenRead(path, bufferSize: 1 << 16);
        Scanned? scan = null;
        foreach (var (line, cells) in Rows(file, path, options.Csv.Delimiter))
        {
            if (scan is null)
            {
                if (cells.Length > MaxColumns) throw new DataFormatException($"{path}: line {line} has {cells.Length:N0} columns; at most {MaxColumns:N0} are read.");
                scan = new Scanned(cells, line);
                continue;
            }
            scan.Rows++;
            for (int j = 0; j < cells.Length; j++)
            {
                if (cells[j] == scan.First[j]) scan.FirstRepeats[j] = true;
                scan.Count(j, line, cells[j]);
            }
        }
        return scan ?? throw new DataFormatException($"{path}: no data rows.");
    }

    /// <summary>Whether the first line names the columns: as declared, or (auto) when a numeric column's first cell is not a number.</summary>
    private static bool HasHeader(TableOptions options, Scanned scan)
    {
        if (options.Csv.Header != CsvHeader.Auto) return options.Csv.Header == CsvHeader.Yes;
        bool named = options.Csv.LabelColumn is { } spec && spec.Split(',').Any(s => !int.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _));
        if (named || scan.Rows == 0) return named;
        bool anyNumeric = false;
        for (int j = 0; j < scan.First.Length; j++)
        {
            if (scan.Cells[j] == 0 || scan.Numbers[j] != scan.Cells[j]) continue;
            anyNumeric = true;
            if (!IsMissing(scan.First[j]) && !IsNumber(scan.First[j], out _)) return true;
        }
        // Text everywhere: a header's names are distinct, present, and not values of their columns.
        return !anyNumeric && scan.First.All(f => !IsMissing(f)) && scan.First.Distinct().Count() == scan.First.Length
            && !scan.FirstRepeats.Any(r => r);
    }

    /// <summary>
    /// The second pass: column kinds decided, every cell parsed. A categorical column's vocabulary is gathered as its
    /// values come (bounded: a column of more distinct values than allowed is refused at the one past the bound), then
    /// sorted, and the codes renumbered in that order.
    /// </summary>
    private static RawTable Parse(string path, TableOptions options, Scanned scan)
    {
        bool header = HasHeader(options, scan);
        if (header && scan.Rows == 0) throw new DataFormatException($"{path}: no data rows (only the header line).");
        int width = scan.First.Length;
        string[]? names = header ? scan.First : null;
        var labelAt = LabelColumns(path, options, width, names);
        if (labelAt.Length >= width)
            throw (width == 1 ? options.Csv.WrongDelimiter(path, scan.First[0]) : null)
                ?? new DataFormatException($"{path}: every column is a label; no features are left.");
        var drop = Resolve(path, options.Drop, width, names, "drop");
        var declared = Resolve(path, options.Categorical, width, names, "categorical");
        foreach (int j in declared.Intersect(labelAt))
            throw new DataFormatException($"{path}: column {Name(names, j)} is the label; it cannot also be an input category.");
        var inputs = Enumerable.Range(0, width).Where(j => !labelAt.Contains(j) && !drop.Contains(j)).ToArray();
        if (inputs.Length == 0) throw new DataFormatException($"{path}: no input columns are left (every column is a label or dropped).");

        // The first line is data when it is not a header: count its cells in.
        if (!header) for (int j = 0; j < width; j++) scan.Count(j, scan.FirstLine, scan.First[j]);
        var columns = inputs.Select((j, k) => Column(path, scan, names?[j] ?? $"x{k}", declared.Contains(j), j)).ToArray();
        var vocabularies = columns.Select((c, k) => c.Kind == ColumnKind.Categorical
            ? new Vocabulary(path, c.Name, inputs[k], declared.Contains(inputs[k]) ? MaxDeclaredCategories : options.MaxCategories) : null).ToArray();

        var values = new List<float>();
        var rawLabels = new List<string>();
        var targets = new List<float>();
        using var file = InputFile.OpenRead(path, bufferSize: 1 << 16);
        bool skip = header;
        foreach (var (line, cells) in Rows(file, path, options.Csv.Delimiter))
        {
            if (skip) { skip = false; continue; }
            for (int k = 0; k < inputs.Length; k++)
            {
                string cell = cells[inputs[k]];
                if (IsMissing(cell))
                {
                    if (!options.Impute)
                        throw new DataFormatException($"{path}: line {line}, column {inputs[k] + 1} ({Name(names, inputs[k])}) is a gap ('{cell}'); fill it in the file, or let gaps be imputed.");
                    values.Add(float.NaN);
                }
                else if (vocabularies[k] is { } vocabulary) values.Add(vocabulary.Code(cell));
                else values.Add(IsNumber(cell, out float v) ? v
                    : throw new DataFormatException($"{path}: line {line}, column {inputs[k] + 1} ({Name(names, inputs[k])}): '{cell}' is not a number."));
            }
            if (options.Regression)
                foreach (int j in labelAt) targets.Add(Target(path, line, cells[j], j, names));
            else rawLabels.Add(cells[labelAt[0]]);
        }
        int rows = options.Regression ? targets.Count / labelAt.Length : rawLabels.Count;
        if (rows == 0) throw new DataFormatException($"{path}: no data rows.");
        var raw = values.ToArray();
        var notes = new List<string>();
        for (int k = 0; k < columns.Length; k++)
        {
            if (vocabularies[k] is not { } vocabulary) continue;
            columns[k] = columns[k] with { Categories = vocabulary.Sorted(raw, k, columns.Length) };
            int distinct = columns[k].Categories.Count;
            if (!declared.Contains(inputs[k]) && distinct > 50 && distinct * 2 > rows)
                notes.Add($"column '{columns[k].Name}' has {distinct:N0} distinct values in {rows:N0} rows: an identifier or free text? Each value becomes a feature of its own; drop the column if it is one.");
        }
        string? labelName = names is null ? null : string.Join(',', labelAt.Select(j => names[j]));
        if (options.Regression)
            return new RawTable
            {
                Source = path, Columns = columns, Values = raw, Targets = [.. targets], HasHeader = header, LabelName = labelName,
                TargetNames = [.. labelAt.Select((j, k) => names?[j] ?? $"y{k}")], Notes = notes,
            };
        var (labels, classes) = CsvDataset.Labels(path, rawLabels, null);
        return new RawTable { Source = path, Columns = columns, Values = raw, Labels = labels, ClassNames = classes, HasHeader = header, LabelName = labelName, Notes = notes };
    }

    /// <summary>A column's kind from its counts; a numeric column with stray words is refused, naming the first.</summary>
    private static TableColumn Column(string path, Scanned scan, string name, bool declared, int at)
    {
        if (scan.Cells[at] == 0) throw new DataFormatException($"{path}: column {at + 1} ('{name}') holds only gaps; drop it.");
        if (!declared && scan.Numbers[at] == scan.Cells[at]) return new TableColumn(name, ColumnKind.Numeric);
        if (!declared && scan.Numbers[at] * 2 > scan.Cells[at])
            throw new DataFormatException(
                $"{path}: line {scan.FirstText[at]!.Value.Line}, column {at + 1} ('{name}'): '{scan.FirstText[at]!.Value.Text}' is not a number, though most of the column's values are. Fix the cell, mark it as a gap (empty or NA), or declare the column categorical.");
        return new TableColumn(name, ColumnKind.Categorical);
    }

    /// <summary>A categorical column's values as they come: provisional codes in order of first sight, bounded.</summary>
    private sealed class Vocabulary(string path, string name, int at, int limit)
    {
        private readonly Dictionary<string, int> _codes = new(StringComparer.Ordinal);
        private readonly List<string> _seen = [];

        public float Code(string cell)
        {
            string key = TableColumn.Canonical(cell);
            if (_codes.TryGetValue(key, out int code)) return code;
            if (_seen.Count == limit)
                throw new DataFormatException(
                    $"{path}: column {at + 1} ('{name}') has more than {limit:N0} distinct values{(limit == MaxDeclaredCategories ? "" : " of text: an identifier or free text? Drop the column, or declare it categorical to encode it anyway")}.");
            _codes[key] = _seen.Count;
            _seen.Add(key);
            return _seen.Count - 1;
        }

        /// <summary>The categories in order (numbers by value, text ordinally); column <paramref name="k"/>'s codes in <paramref name="raw"/> renumbered to it.</summary>
        public string[] Sorted(float[] raw, int k, int width)
        {
            bool numbers = _seen.All(d => IsNumber(d, out _));
            var sorted = numbers ? [.. _seen.OrderBy(d => double.Parse(d, CultureInfo.InvariantCulture))] : _seen.Order(StringComparer.Ordinal).ToArray();
            var renumber = new float[_seen.Count];
            for (int i = 0; i < sorted.Length; i++) renumber[_codes[sorted[i]]] = i;
            for (int at = k; at < raw.Length; at += width)
                if (!float.IsNaN(raw[at])) raw[at] = renumber[(int)raw[at]];
            return sorted;
        }
    }

    private static float Target(string path, int line, string cell, int at, string[]? names)
    {
        if (IsMissing(cell)) throw new DataFormatException($"{path}: line {line}: the target {Name(names, at)} is missing; a row to learn from needs its target.");
        return IsNumber(cell, out float v) ? v
            : throw new DataFormatException($"{path}: line {line}, column {at + 1} ({Name(names, at)}): the target '{cell}' is not a number.");
    }

    private static string Name(string[]? names, int at) => names is null ? $"x{at}" : $"'{names[at]}'";

    /// <summary>The label column, or the target columns (<c>price,rooms</c>); the first column by default.</summary>
    private static int[] LabelColumns(string path, TableOptions options, int width, string[]? names)
    {
        var specs = (options.Csv.LabelColumn ?? "0").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (!options.Regression && specs.Length != 1) throw new DataFormatException($"{path}: a classifier has one label column; '{options.Csv.LabelColumn}' names {specs.Length}.");
        int[] at = [.. specs.Select(spec => (options.Csv with { LabelColumn = spec }).LabelIndex(path, width, names))];
        if (at.Distinct().Count() != at.Length) throw new DataFormatException($"{path}: a target column is named twice.");
        return at;
    }

    /// <summary>Columns named (or numbered) in a list of <paramref name="what"/> columns; an unknown one is refused.</summary>
    private static HashSet<int> Resolve(string path, IReadOnlyList<string> specs, int width, string[]? names, string what)
    {
        var set = new HashSet<int>();
        foreach (var spec in specs)
        {
            if (int.TryParse(spec, NumberStyles.None, CultureInfo.InvariantCulture, out int i))
            {
                if (i >= width) throw new DataFormatException($"{path}: {what} column {i} is outside the {width} columns.");
                set.Add(i);
                continue;
            }
            int found = names is null ? -1 : Array.IndexOf(names, spec);
            if (found < 0)
                throw new DataFormatException(names is null
                    ? $"{path}: the {what} column '{spec}' is a name, but the file has no header line; give its 0-based index."
                    : $"{path}: no column named '{spec}' to make {what} (the header has {string.Join(", ", names.Take(12))}{(names.Length > 12 ? ", …" : "")}).");
            set.Add(found);
        }
        return set;
    }

    /// <summary>Reads rows against a trained model's schema, in one pass.</summary>
    private sealed class SchemaReader(string name, TableOptions options, TableSchema schema, bool requireLabels)
    {
        private readonly Dictionary<string, int>?[] _index = [.. schema.Columns.Select(c => c.Kind == ColumnKind.Categorical ? c.CategoryIndex() : null)];

        public RawTable Read(Stream stream)
        {
            int[]? inputAt = null;
            int[] labelAt = [];
            bool header = false;
            string[]? names = null;
            var values = new List<float>();
            var rawLabels = new List<string>();
            var targets = new List<float>();
            int unseen = 0;
            string? firstUnseen = null;
            foreach (var (line, cells) in Rows(stream, name, options.Csv.Delimiter))
            {
                if (inputAt is null)
                {
                    header = IsHeader(cells);
                    names = header ? cells : null;
                    (inputAt, labelAt) = Map(cells.Length, names);
                    if (header) continue;
                }
                for (int k = 0; k < inputAt.Length; k++)
                {
                    var column = schema.Columns[k];
                    string cell = cells[inputAt[k]];
                    float v;
                    if (IsMissing(cell))
                    {
                        if (!column.Imputes)
                            throw new DataFormatException($"{name}: line {line}, column '{column.Name}' is a gap ('{cell}'), and the model was trained without filling gaps.");
                        v = float.NaN;
                    }
                    else if (_index[k] is { } index)
                    {
                        if (!index.TryGetValue(TableColumn.Canonical(cell), out int code))
                        {
                            code = -1;
                            unseen++;
                            firstUnseen ??= $"line {line}, column '{column.Name}': '{cell}'";
                        }
                        v = code;
                    }
                    else if (!IsNumber(cell, out v))
                        throw new DataFormatException($"{name}: line {line}, column '{column.Name}': '{cell}' is not a number.");
                    values.Add(v);
                }
                if (labelAt.Length == 0 || !requireLabels) continue; // rows to predict: a label, if there, is not read
                if (schema.Regression) foreach (int j in labelAt) targets.Add(Target(name, line, cells[j], j, names));
                else rawLabels.Add(cells[labelAt[0]]);
            }
            if (inputAt is null || values.Count == 0) throw new DataFormatException($"{name}: no data rows.");
            int[] labels = !schema.Regression && rawLabels.Count > 0 ? CsvDataset.Labels(name, rawLabels, schema.ClassNames).Labels : [];
            return new RawTable
            {
                Source = name, Columns = schema.Columns, Values = values.ToArray(), HasHeader = header, Unseen = unseen, FirstUnseen = firstUnseen,
                ClassNames = schema.ClassNames, TargetNames = schema.TargetNames, Targets = [.. targets], Labels = labels,
                LabelName = names is null || labelAt.Length == 0 ? null : string.Join(',', labelAt.Select(j => names[j])),
            };
        }

        /// <summary>A first line that names at least half of the model's columns is a header (or as declared).</summary>
        private bool IsHeader(string[] cells)
        {
            if (options.Csv.Header != CsvHeader.Auto) return options.Csv.Header == CsvHeader.Yes;
            var known = new HashSet<string>(schema.Columns.Select(c => c.Name), StringComparer.Ordinal);
            return cells.Count(known.Contains) * 2 >= schema.Columns.Count && schema.Columns.Count > 0;
        }

        /// <summary>Where each model column, and the label, are in this file.</summary>
        private (int[] Inputs, int[] Labels) Map(int width, string[]? names)
        {
            int labels = schema.Regression ? schema.TargetNames.Count : 1;
            if (names is not null)
            {
                var inputs = schema.Columns.Select(c => Array.IndexOf(names, c.Name) is var at && at >= 0 ? at
                    : throw new DataFormatException($"{name}: no column '{c.Name}' (the model's columns are {string.Join(", ", schema.Columns.Take(8).Select(x => x.Name))}{(schema.Columns.Count > 8 ? ", …" : "")}).")).ToArray();
                foreach (var c in schema.Columns)
                    if (names.Count(n => n == c.Name) > 1) throw new DataFormatException($"{name}: the header names the column '{c.Name}' twice.");
                // Rows to predict need no label (columns are found by name; a label column there is left alone).
                return (inputs, requireLabels ? LabelColumns(name, options, width, names) : []);
            }
            if (width == schema.Columns.Count && !requireLabels) return ([.. Enumerable.Range(0, width)], []);
            if (width == schema.Columns.Count + labels + options.Drop.Count)
            {
                var labelAt = LabelColumns(name, options, width, null);
                var drop = Resolve(name, options.Drop, width, null, "drop");
                return ([.. Enumerable.Range(0, width).Where(j => !labelAt.Contains(j) && !drop.Contains(j))], labelAt);
            }
            throw new DataFormatException(
                $"{name}: rows have {width} values; the model takes {schema.Columns.Count} columns ({string.Join(", ", schema.Columns.Take(8).Select(c => c.Name))}{(schema.Columns.Count > 8 ? ", …" : "")}){(requireLabels ? $" and {labels} label column(s)" : ", with or without the label")}.");
        }
    }
}
