using SkiaSharp;

namespace Nabla.Cli;

/// <summary>
/// Image files to and from the dataset's form — 28×28 grayscale, 0 = black background — through SkiaSharp
/// (decoding PNG and JPEG with a maintained native library rather than by hand).
/// </summary>
internal static class Imaging
{
    /// <summary>
    /// Decodes <paramref name="path"/>, converts it to grayscale, resizes it to <paramref name="width"/>×<paramref name="height"/>
    /// and scales it to [0, 1]. Fashion-MNIST shows light objects on black; a picture whose border is light
    /// (a photo on a white background) is inverted to match when <paramref name="invert"/> is null.
    /// </summary>
    /// <exception cref="Data.DataFormatException">Missing or undecodable file.</exception>
    public static float[] LoadGrayscale(string path, int width, int height, bool? invert = null)
    {
        if (!File.Exists(path)) throw new Data.DataFormatException($"{path}: file not found.");
        using var original = Decode(path);
        using var resized = original.Width == width && original.Height == height
            ? original.Copy()
            : original.Resize(new SKImageInfo(width, height), new SKSamplingOptions(SKCubicResampler.Mitchell));
        var pixels = new float[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var c = resized.GetPixel(x, y);
                // Gray stays as it is (so a PNG of a dataset image gives back its exact values); colour becomes
                // ITU-R BT.601 luma. Transparent pixels count as background.
                float luma = c.Red == c.Green && c.Green == c.Blue ? c.Red : 0.299f * c.Red + 0.587f * c.Green + 0.114f * c.Blue;
                if (c.Alpha != 255) luma *= c.Alpha / 255f;
                pixels[y * width + x] = luma / 255f;
            }
        if (invert ?? BorderMean(pixels, width, height) > 0.5f)
            for (int i = 0; i < pixels.Length; i++) pixels[i] = 1f - pixels[i];
        return pixels;
    }

    /// <summary>The largest image read, in pixels (a 45000×45000 header must not decode into gigabytes).</summary>
    public const long MaxPixels = 64L << 20;

    /// <summary>Decodes a PNG or JPEG after checking its size from the header; a truncated or corrupt file is refused.</summary>
    private static SKBitmap Decode(string path)
    {
        // Opened here, not by SkiaSharp from the path: a FIFO or a device is refused instead of blocking the decoder.
        using var file = Data.InputFile.OpenRead(path);
        using var codec = SKCodec.Create(file, out var opened)
            ?? throw new Data.DataFormatException($"{path}: not a PNG or JPEG image SkiaSharp can decode ({opened}).");
        var info = codec.Info;
        if (info.Width < 1 || info.Height < 1 || (long)info.Width * info.Height > MaxPixels)
            throw new Data.DataFormatException($"{path}: the image is {info.Width}×{info.Height} pixels; at most {MaxPixels:N0} pixels are read. Resize it first.");
        if (info.AlphaType == SKAlphaType.Unpremul) info = info.WithAlphaType(SKAlphaType.Premul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new Data.DataFormatException($"{path}: the image is truncated or corrupt ({result}).");
        }
        return bitmap;
    }

    private static float BorderMean(float[] p, int w, int h)
    {
        double sum = 0;
        int n = 0;
        for (int x = 0; x < w; x++) { sum += p[x] + p[(h - 1) * w + x]; n += 2; }
        for (int y = 1; y < h - 1; y++) { sum += p[y * w] + p[y * w + w - 1]; n += 2; }
        return (float)(sum / n);
    }

    /// <summary>Writes 8-bit grayscale bytes (row-major) as a PNG.</summary>
    public static void SaveGrayscalePng(string path, ReadOnlySpan<byte> gray, int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                byte v = gray[y * width + x];
                bitmap.SetPixel(x, y, new SKColor(v, v, v));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        IO.AtomicFile.Write(path, s => data.SaveTo(s));
    }
}
