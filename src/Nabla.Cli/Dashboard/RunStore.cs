using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Nabla.Cli.Dashboard;

/// <summary>
/// The runs under one folder, as the dashboard sees them: a run is a folder holding <c>run.json</c> and
/// <c>events.jsonl</c> (what <see cref="RunRecorder"/> writes), at most <see cref="MaxDepth"/> levels below the root.
/// A run's id is its path relative to the root with '/' separators ("." for the root itself). The server resolves
/// ids only through <see cref="Find"/>, which answers nothing but a run it discovered: a request cannot name a path
/// outside the root (no "..", no absolute paths, no links followed out).
/// </summary>
internal sealed partial class RunStore(string root)
{
    /// <summary>How deep below the root runs are looked for (root/session/run).</summary>
    public const int MaxDepth = 2;

    /// <summary>The files of a run the server may send.</summary>
    public static readonly IReadOnlySet<string> ServedFiles = new HashSet<string>(StringComparer.Ordinal) { "run.json", "events.jsonl", "log.csv" };

    /// <summary>The folder served.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Every run under <see cref="Root"/>, ordered by id.</summary>
    public IReadOnlyList<RunEntry> List()
    {
        var runs = new List<RunEntry>();
        Collect(Root, ".", 0, runs);
        runs.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return runs;
    }

    /// <summary>The run with this id, or null: an id that is not a discovered run's resolves to nothing.</summary>
    public RunEntry? Find(string id)
    {
        if (id != "." && !id.Split('/').All(s => Segment().IsMatch(s))) return null;
        return List().FirstOrDefault(r => r.Id == id);
    }

    private void Collect(string dir, string id, int depth, List<RunEntry> runs)
    {
        // Only regular files that are not links: a link could lead out of the root, a FIFO would hang the reader.
        if (Data.InputFile.IsPlainFile(Path.Combine(dir, "run.json")) && Data.InputFile.IsPlainFile(Path.Combine(dir, "events.jsonl")))
            runs.Add(new RunEntry(id, dir, Root));
        if (depth >= MaxDepth) return;
        IEnumerable<string> children;
        try
        {
            children = Directory.EnumerateDirectories(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // an unreadable folder holds no runs we can show
        }
        foreach (var child in children)
        {
            var info = new DirectoryInfo(child);
            // Links are not followed: they could lead out of the root.
            if (info.LinkTarget is not null || !Segment().IsMatch(info.Name)) continue;
            Collect(child, id == "." ? info.Name : id + "/" + info.Name, depth + 1, runs);
        }
    }

    /// <summary>A folder name the dashboard serves: letters, digits, '.', '_' and '-', not starting with '.'.</summary>
    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex Segment();

    /// <summary>A fresh session folder under <paramref name="root"/>: <c>yyyyMMdd-HHmmss-command</c> (suffixed if taken).</summary>
    public static string NewSession(string root, string command)
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        for (int n = 1; ; n++)
        {
            string dir = Path.Combine(root, n == 1 ? $"{stamp}-{command}" : $"{stamp}-{command}-{n}");
            if (Directory.Exists(dir)) continue;
            Directory.CreateDirectory(dir);
            return dir;
        }
    }
}

/// <summary>One run the dashboard found.</summary>
/// <param name="Id">Its path below the root, '/'-separated.</param>
/// <param name="Folder">Its folder.</param>
/// <param name="Root">The folder served, which every file read must really lie inside.</param>
internal sealed record RunEntry(string Id, string Folder, string Root)
{
    /// <summary>
    /// Opens one of the run's files for reading if it is a regular file (not a link, a FIFO or a device) that really lies
    /// inside <see cref="Root"/>; null otherwise. Checked on the open file itself, so a swap after discovery cannot
    /// slip another file in.
    /// </summary>
    public FileStream? Open(string name) => Data.InputFile.OpenInside(Root, Path.Combine(Folder, name), out _, bufferSize: 1);

    /// <summary>The largest run.json read (a recorder's is under 2 KB).</summary>
    public const int MaxInfo = 1 << 20;

    private static bool Alive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false; // no such process
        }
    }

    /// <summary>
    /// run.json, or an object naming the problem when it cannot be read (a damaged file). A run that says "running"
    /// but whose process on this machine is gone (killed, crashed) is reported as "stopped".
    /// </summary>
    public JsonObject Metadata()
    {
        try
        {
            using var file = Open("run.json");
            if (file is null) return new JsonObject { ["error"] = "run.json is not a regular file inside the runs folder", ["status"] = "damaged" };
            // Read at most one byte past the limit, whatever the file claims or grows to while it is read.
            var bytes = new byte[Math.Min(file.Length, MaxInfo) + 1];
            int length = 0, read;
            while (length < bytes.Length && (read = file.Read(bytes, length, bytes.Length - length)) > 0) length += read;
            if (length > MaxInfo) return new JsonObject { ["error"] = $"run.json is larger than {MaxInfo} bytes", ["status"] = "damaged" };
            var meta = JsonNode.Parse(bytes.AsSpan(0, length)) as JsonObject ?? new JsonObject { ["error"] = "run.json is not an object", ["status"] = "damaged" };
            if ((string?)meta["status"] == "running" && (string?)meta["host"] == Environment.MachineName
                && meta["pid"] is JsonValue pid && pid.TryGetValue(out int id) && !Alive(id))
                meta["status"] = "stopped";
            return meta;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return new JsonObject { ["error"] = $"run.json: {e.Message}", ["status"] = "damaged" };
        }
    }
}
