namespace Nabla.Data;

/// <summary>
/// Finds a dataset's files, in this order: an explicit directory; <c>$NABLA_DATA</c>; the per-user cache;
/// the system directory of a distribution package (Debian's <c>dataset-fashion-mnist</c>); else downloads
/// them into the cache. The environment and the network come in as settings, so that tests control both.
/// </summary>
public sealed class DatasetLocator
{
    /// <summary>The value of <c>$NABLA_DATA</c>, if set.</summary>
    public string? EnvironmentDirectory { get; init; }

    /// <summary>The per-user cache root (a folder per dataset beneath it).</summary>
    public string CacheRoot { get; init; } = DefaultCacheRoot();

    /// <summary>Whether the system directories are searched (tests turn this off).</summary>
    public bool SearchSystem { get; init; } = true;

    /// <summary>The downloader, or null to never download.</summary>
    public Downloader? Downloader { get; init; }

    /// <summary><c>$XDG_CACHE_HOME/nabla</c>, else <c>~/.cache/nabla</c>.</summary>
    public static string DefaultCacheRoot()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "nabla");
    }

    /// <summary>The directory that holds all four files of <paramref name="spec"/>.</summary>
    /// <exception cref="DataFormatException">Not found anywhere and not downloadable; the message lists the ways to get it.</exception>
    public string Locate(DatasetSpec spec, string? explicitDirectory = null)
    {
        if (explicitDirectory is not null)
        {
            return Resolve(spec, explicitDirectory)
                ?? throw new DataFormatException($"{explicitDirectory} does not hold the {spec.Title} files ({string.Join(", ", spec.Files)}, .gz or not).");
        }
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(EnvironmentDirectory)) candidates.Add(EnvironmentDirectory);
        string cache = Path.Combine(CacheRoot, spec.Name);
        candidates.Add(cache);
        if (SearchSystem && spec.SystemDirectory is not null) candidates.Add(spec.SystemDirectory);
        foreach (var dir in candidates)
            if (Resolve(spec, dir) is string found) return found;
        if (Downloader is not null)
        {
            try
            {
                Downloader.DownloadMissing(spec, cache);
                return cache;
            }
            catch (DataFormatException e)
            {
                throw new DataFormatException(NotFoundMessage(spec, cache) + " Download failed: " + e.Message, e) { Setting = DataFormatException.DataDirectorySetting };
            }
        }
        throw new DataFormatException(NotFoundMessage(spec, cache)) { Setting = DataFormatException.DataDirectorySetting };
    }

    private static string NotFoundMessage(DatasetSpec spec, string cache)
    {
        string apt = spec.SystemPackage is null ? "" : $"(1) install it: sudo apt-get install {spec.SystemPackage}; ";
        int n = spec.SystemPackage is null ? 1 : 2;
        return $"{spec.Title} not found. Get it one of these ways: {apt}" +
               $"({n}) put {string.Join(", ", spec.Files)} in a folder and give that folder, or set NABLA_DATA=DIR; " +
               $"({n + 1}) go online and Nabla downloads them into {cache}.";
    }

    /// <summary>The folder of <paramref name="dir"/> (or its PyTorch layout <c>X/raw</c>) that holds every file, or null.</summary>
    public static string? Resolve(DatasetSpec spec, string dir)
    {
        foreach (var candidate in new[] { dir, Path.Combine(dir, "raw"), Path.Combine(dir, spec.Title.Replace("-", ""), "raw") })
        {
            if (spec.Files.All(f => FindFile(candidate, f) is not null)) return candidate;
        }
        return null;
    }

    /// <summary>The path of <paramref name="gzName"/> in <paramref name="dir"/>, compressed or not, or null.</summary>
    public static string? FindFile(string dir, string gzName)
    {
        string gz = Path.Combine(dir, gzName);
        if (File.Exists(gz)) return gz;
        string raw = Path.Combine(dir, Path.GetFileNameWithoutExtension(gzName));
        return File.Exists(raw) ? raw : null;
    }

    /// <summary>Loads the train and test sets of <paramref name="spec"/> from <paramref name="dir"/>.</summary>
    /// <exception cref="DataFormatException">A file is malformed or the files disagree.</exception>
    /// <param name="spec">The dataset.</param>
    /// <param name="dir">The folder holding its files.</param>
    /// <param name="rawCache">
    /// A folder for uncompressed copies of large .gz files (<see cref="IdxCache"/>): a later run reads those in a few
    /// milliseconds instead of inflating again. Null (the default) caches nothing.
    /// </param>
    public static (ImageDataset Train, ImageDataset Test) Load(DatasetSpec spec, string dir, string? rawCache = null)
    {
        var paths = spec.Files.Select(f => FindFile(dir, f) ?? throw new DataFormatException($"{dir}: {f} is missing.")).ToArray();
        // The headers first: counts and shapes are checked against each other before any data buffer exists.
        var dims = paths.Select(IdxReader.ReadDimensions).ToArray();
        CheckPair(spec, dims[0], dims[1], "train");
        CheckPair(spec, dims[2], dims[3], "test");
        var parts = new IdxFile[4];
        try
        {
            Parallel.For(0, 4, i => parts[i] = rawCache is null ? IdxReader.Read(paths[i]) : IdxCache.Read(paths[i], rawCache, dims[i]));
        }
        catch (AggregateException e)
        {
            // One error, the reader's own, not the parallel loop's wrapper (the first file's, if several failed).
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
        }
        return (Images(spec, parts[0], parts[1], "train"), Images(spec, parts[2], parts[3], "test"));
    }

    private static void CheckPair(DatasetSpec spec, int[] images, int[] labels, string split)
    {
        string name = $"{spec.Title} {split} set";
        if (images.Length != 3)
            throw new DataFormatException($"{name}: images must have rank 3 (count, height, width); got rank {images.Length}.");
        if (labels.Length != 1)
            throw new DataFormatException($"{name}: labels must have rank 1; got rank {labels.Length}.");
        if (images[0] != labels[0])
            throw new DataFormatException($"{name}: {images[0]} images but {labels[0]} labels.");
        if (images[0] == 0) throw new DataFormatException($"{name}: the files hold no samples.");
        if (images[1] < 1 || images[2] < 1) throw new DataFormatException($"{name}: images of {images[1]}×{images[2]} pixels.");
    }

    private static ImageDataset Images(DatasetSpec spec, IdxFile images, IdxFile labels, string split)
    {
        string name = $"{spec.Title} {split} set";
        if (images.Dimensions.Length != 3)
            throw new DataFormatException($"{name}: images must have rank 3 (count, height, width); got rank {images.Dimensions.Length}.");
        if (labels.Dimensions.Length != 1)
            throw new DataFormatException($"{name}: labels must have rank 1; got rank {labels.Dimensions.Length}.");
        return new ImageDataset(images.Data, labels.Data.ToArray(), images.Dimensions[1], images.Dimensions[2], spec.ClassNames, name);
    }
}
