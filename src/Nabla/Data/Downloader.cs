using System.Security.Cryptography;

namespace Nabla.Data;

/// <summary>
/// Fetches a dataset's files into a directory: each file from the first mirror that serves it, streamed to a
/// temporary file beside the target while its MD5 is computed, flushed to disk, and renamed into place only
/// if the checksum matches. An interrupted or rejected download leaves no partial file behind.
/// </summary>
public sealed class Downloader(HttpClient http, IProgress<DownloadProgress>? progress = null)
{
    /// <summary>Downloads every file of <paramref name="spec"/> missing from <paramref name="directory"/>.</summary>
    /// <exception cref="DataFormatException">No mirror served a file with the published checksum.</exception>
    public void DownloadMissing(DatasetSpec spec, string directory)
    {
        Directory.CreateDirectory(directory);
        for (int i = 0; i < spec.Files.Length; i++)
        {
            string target = Path.Combine(directory, spec.Files[i]);
            if (File.Exists(target)) continue;
            var errors = new List<string>();
            foreach (var mirror in spec.Mirrors)
            {
                string url = mirror.TrimEnd('/') + "/" + spec.Files[i];
                try
                {
                    Fetch(url, target, spec.Md5[i]);
                    errors.Clear();
                    break;
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or DataFormatException)
                {
                    errors.Add($"{url}: {e.Message}");
                }
            }
            if (errors.Count > 0)
                throw new DataFormatException($"Could not download {spec.Files[i]}: {string.Join("; ", errors)}");
        }
    }

    /// <summary>The most one download may bring (the largest Fashion-MNIST or MNIST file is under 30 MB).</summary>
    internal const long MaxBytes = 256L << 20;

    private void Fetch(string url, string target, string md5)
    {
        string temp = target + ".part-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using var response = http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult();
            response.EnsureSuccessStatusCode();
            long? total = response.Content.Headers.ContentLength;
            if (total > MaxBytes) throw new IOException($"the server announces {total:N0} bytes; a dataset file is at most {MaxBytes:N0}");
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            using (var source = response.Content.ReadAsStream())
            using (var dest = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                var buffer = new byte[1 << 16];
                long received = 0;
                int n;
                while ((n = source.Read(buffer)) > 0)
                {
                    dest.Write(buffer, 0, n);
                    hash.AppendData(buffer, 0, n);
                    received += n;
                    // A mirror that sends no length, or more than it announced, must not fill the disk.
                    if (received > MaxBytes || (total is long announced && received > announced))
                        throw new IOException($"the server sent more than {(total ?? MaxBytes):N0} bytes");
                    progress?.Report(new DownloadProgress(Path.GetFileName(target), received, total));
                }
                if (total is long t && received != t)
                    throw new IOException($"connection closed after {received} of {t} bytes");
                dest.Flush(flushToDisk: true);
            }
            string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (!string.Equals(actual, md5, StringComparison.OrdinalIgnoreCase))
                throw new DataFormatException($"checksum mismatch (MD5 {actual}, expected {md5})");
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
