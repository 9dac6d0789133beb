using System.Net;
using System.Security.Cryptography;
using Nabla.Data;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Data;

/// <summary>The download path against a local HTTP server on 127.0.0.1 serving generated IDX files.</summary>
public sealed class DownloadTests : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Dictionary<string, byte[]> _served = [];
    private readonly string _prefix;
    private readonly TempDir _source = new();
    private readonly TempDir _cache = new();
    private int _truncateTo = -1;
    private bool _endless; // a hostile mirror: no length, and bytes for ever

    public DownloadTests()
    {
        int port = 0;
        for (int attempt = 0; ; attempt++)
        {
            port = 20000 + Random.Shared.Next(30000);
            // A listener whose Start failed (the port was taken) is disposed: each attempt needs a new one.
            var listener = new HttpListener();
            try
            {
                listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                listener.Start();
                _listener = listener;
                break;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
            }
        }
        _prefix = $"http://127.0.0.1:{port}/";
        foreach (var (name, bytes) in _source.WriteDataset()) _served[name] = bytes;
        _ = Task.Run(Serve);
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); } catch (Exception) { return; }
            string name = ctx.Request.Url!.AbsolutePath.TrimStart('/');
            if (_endless)
            {
                ctx.Response.SendChunked = true;
                var zeros = new byte[1 << 20];
                try { while (true) await ctx.Response.OutputStream.WriteAsync(zeros); }
                catch (Exception) { } // the client hung up
            }
            else if (_served.TryGetValue(name, out var bytes))
            {
                var body = _truncateTo >= 0 ? bytes[..Math.Min(_truncateTo, bytes.Length)] : bytes;
                ctx.Response.ContentLength64 = body.Length;
                await ctx.Response.OutputStream.WriteAsync(body);
            }
            else ctx.Response.StatusCode = 404;
            ctx.Response.Close();
        }
    }

    private DatasetSpec Spec(bool wrongChecksum = false) => FashionMnist.Spec with
    {
        Mirrors = [_prefix],
        Md5 = [.. FashionMnist.Spec.Files.Select((f, i) => wrongChecksum && i == 2 ? new string('0', 32) : Convert.ToHexStringLower(MD5.HashData(_served[f])))],
        SystemDirectory = null,
    };

    private DatasetLocator Locator(HttpClient http) => new() { CacheRoot = _cache.Path, SearchSystem = false, Downloader = new Downloader(http) };

    [Fact]
    public void Locate_NotFoundAnywhere_DownloadsIntoCacheAndVerifies()
    {
        using var http = new HttpClient();
        var progress = new List<DownloadProgress>();
        var locator = new DatasetLocator { CacheRoot = _cache.Path, SearchSystem = false, Downloader = new Downloader(http, new SyncProgress(progress.Add)) };
        string dir = locator.Locate(Spec());
        Assert.Equal(Path.Combine(_cache.Path, "fashion-mnist"), dir);
        var (train, test) = DatasetLocator.Load(FashionMnist.Spec, dir);
        Assert.Equal(20, train.Count);
        Assert.Equal(8, test.Count);
        Assert.Contains(progress, p => p.File == "train-images-idx3-ubyte.gz" && p.Bytes == p.Total);
    }

    [Fact]
    public void Download_ChecksumMismatch_RejectedAndNothingHalfWritten()
    {
        using var http = new HttpClient();
        var e = Assert.Throws<DataFormatException>(() => Locator(http).Locate(Spec(wrongChecksum: true)));
        Assert.Contains("checksum mismatch", e.Message);
        string dir = Path.Combine(_cache.Path, "fashion-mnist");
        Assert.False(File.Exists(Path.Combine(dir, "t10k-images-idx3-ubyte.gz")));
        Assert.Empty(Directory.GetFiles(dir, "*.part-*"));
    }

    [Fact]
    public void Download_ConnectionCutShort_NothingHalfWritten()
    {
        _truncateTo = 10;
        using var http = new HttpClient();
        Assert.Throws<DataFormatException>(() => Locator(http).Locate(Spec()));
        string dir = Path.Combine(_cache.Path, "fashion-mnist");
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Download_AnEndlessBody_IsCutOffAtTheBound_NothingLeft()
    {
        _endless = true;
        using var http = new HttpClient();
        var e = Assert.Throws<DataFormatException>(() => Locator(http).Locate(Spec()));
        Assert.Contains("more than", e.Message);
        string dir = Path.Combine(_cache.Path, "fashion-mnist");
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Locate_Offline_MessageNamesTheThreeWays()
    {
        var e = Assert.Throws<DataFormatException>(() => new DatasetLocator { CacheRoot = _cache.Path, SearchSystem = false }.Locate(FashionMnist.Spec));
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains("give that folder", e.Message);
        Assert.Equal(DataFormatException.DataDirectorySetting, e.Setting);
        Assert.Contains("NABLA_DATA", e.Message);
        Assert.Contains("downloads them into", e.Message);
    }

    [Fact]
    public void Locate_SearchOrder_ExplicitThenEnvironmentThenCache()
    {
        using var env = new TempDir();
        env.WriteDataset();
        using var cacheDataset = new TempDir();
        Directory.CreateDirectory(Path.Combine(_cache.Path, "fashion-mnist"));
        _source.WriteDataset();
        foreach (var f in FashionMnist.Spec.Files) File.Copy(_source.File(f), Path.Combine(_cache.Path, "fashion-mnist", f));
        var locator = new DatasetLocator { CacheRoot = _cache.Path, SearchSystem = false, EnvironmentDirectory = env.Path };
        Assert.Equal(_source.Path, locator.Locate(FashionMnist.Spec, _source.Path));
        Assert.Equal(env.Path, locator.Locate(FashionMnist.Spec));
        Assert.Equal(Path.Combine(_cache.Path, "fashion-mnist"), new DatasetLocator { CacheRoot = _cache.Path, SearchSystem = false }.Locate(FashionMnist.Spec));
        var e = Assert.Throws<DataFormatException>(() => locator.Locate(FashionMnist.Spec, cacheDataset.Path));
        Assert.Contains("does not hold", e.Message);
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _source.Dispose();
        _cache.Dispose();
    }

    private sealed class SyncProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
