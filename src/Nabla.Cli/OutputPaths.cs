namespace Nabla.Cli;

/// <summary>
/// Checks the files and folders a command will write, before it does any work: a run that trains for an hour and
/// then cannot save its model has lost that hour. A path must be non-empty, name a regular file (or nothing yet) —
/// never a device or a folder where a file is meant — and its folder must be writable.
/// </summary>
internal static class OutputPaths
{
    /// <summary>Checks a file the command will write (atomically); returns it.</summary>
    /// <exception cref="UsageException">The path cannot be written; the message names the flag and says why.</exception>
    public static string? File(string? path, string flag)
    {
        if (path is null) return null;
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"{flag}: the path is empty; give a file name.");
        string full;
        try
        {
            full = IO.AtomicFile.Target(path);
        }
        catch (IOException e)
        {
            throw new UsageException($"{flag} {path}: {e.Message}");
        }
        Writable(Path.GetDirectoryName(full) ?? ".", flag, path);
        return path;
    }

    /// <summary>Checks a folder the command will write files into; returns it.</summary>
    /// <exception cref="UsageException">The folder cannot be written.</exception>
    public static string? Folder(string? path, string flag)
    {
        if (path is null) return null;
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"{flag}: the path is empty; give a folder.");
        if (System.IO.File.Exists(path)) throw new UsageException($"{flag} {path}: is a file; give a folder.");
        Writable(Path.GetFullPath(path), flag, path);
        return path;
    }

    private static void Writable(string folder, string flag, string path)
    {
        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, $".nabla-write-test-{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{flag} {path}: cannot write in {folder} ({e.Message}).");
        }
    }
}
