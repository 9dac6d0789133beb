using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Data;

/// <summary>
/// Images kept as their original bytes (a quarter of the memory of floats) and converted per batch, straight
/// into the loader's reused float buffer: <c>x = b/255</c> as torchvision's <c>ToTensor</c>, then optionally
/// <c>(x − mean)/std</c> as <c>Normalize</c>.
/// </summary>
public sealed class ImageDataset : IDataset
{
    private readonly ReadOnlyMemory<byte> _pixels; // an array, or a mapped file (IdxCache)
    private readonly byte[] _labels;
    private float _mean, _std = 1;

    /// <summary>Wraps images (count × height × width bytes) and labels, checking that they agree.</summary>
    /// <exception cref="DataFormatException">Counts differ, or a label is outside [0, classes).</exception>
    public ImageDataset(byte[] pixels, byte[] labels, int height, int width, IReadOnlyList<string> classNames, string name = "dataset")
        : this((ReadOnlyMemory<byte>)pixels, labels, height, width, classNames, name) { }

    /// <summary>The same over any memory: a file mapped by <see cref="IdxCache"/>, shared by every process on the host.</summary>
    internal ImageDataset(ReadOnlyMemory<byte> pixels, byte[] labels, int height, int width, IReadOnlyList<string> classNames, string name = "dataset")
    {
        Height = height;
        Width = width;
        ClassNames = classNames;
        int features = height * width;
        if (features <= 0 || pixels.Length % features != 0)
            throw new DataFormatException($"{name}: {pixels.Length} pixel bytes are not a whole number of {height}×{width} images.");
        int count = pixels.Length / features;
        if (count != labels.Length)
            throw new DataFormatException($"{name}: {count} images but {labels.Length} labels; the image and label files do not belong together.");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] >= classNames.Count)
                throw new DataFormatException($"{name}: label {labels[i]} at index {i} is outside [0, {classNames.Count}).");
        _pixels = pixels;
        _labels = labels;
    }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <inheritdoc/>
    public int Features => Height * Width;

    /// <inheritdoc/>
    public int Classes => ClassNames.Count;

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The raw bytes of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => _pixels.Span.Slice(index * Features, Features);

    /// <summary>Applies <c>Normalize(mean, std)</c> after the /255 scaling from now on.</summary>
    /// <exception cref="ArgumentOutOfRangeException">std is not positive.</exception>
    public ImageDataset Normalize(float mean, float std)
    {
        if (!(std > 0)) throw new ArgumentOutOfRangeException(nameof(std), $"Normalize: std must be positive; got {std}.");
        (_mean, _std) = (mean, std);
        return this;
    }

    /// <inheritdoc/>
    public int Label(int index) => _labels[index];

    /// <inheritdoc/>
    public bool GathersOnAnyThread => true;

    /// <summary>All images' bytes, row after row (device backends upload these and convert there).</summary>
    internal ReadOnlySpan<byte> Pixels => _pixels.Span;

    /// <summary>All labels.</summary>
    internal ReadOnlySpan<byte> LabelBytes => _labels;

    /// <summary>The <see cref="Normalize"/> mean and std applied after the /255 scaling (0 and 1: none).</summary>
    internal (float Mean, float Std) Normalization => (_mean, _std);

    /// <inheritdoc/>
    public void Gather(ReadOnlySpan<int> indices, Span<float> features, Span<int> labels)
    {
        int d = Features;
        var pixels = _pixels.Span;
        for (int r = 0; r < indices.Length; r++)
        {
            int i = indices[r];
            var dst = features.Slice(r * d, d);
            ToUnitInterval(pixels.Slice(i * d, d), dst);
            if (_mean != 0 || _std != 1)
            {
                TensorPrimitives.Subtract(dst, _mean, dst);
                TensorPrimitives.Divide(dst, _std, dst);
            }
            labels[r] = _labels[i];
        }
    }

    /// <summary>Issues cache prefetches for the images at <paramref name="indices"/> (60,000 images do not fit in L3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    public unsafe void Prefetch(ReadOnlySpan<int> indices)
    {
        if (!Sse.IsSupported) return;
        int d = Features;
        fixed (byte* p = _pixels.Span)
        {
            foreach (int i in indices)
                for (int off = 0; off < d; off += 64) Sse.Prefetch1(p + (long)i * d + off);
        }
    }

    /// <summary>
    /// <c>dst[j] = src[j] / 255</c> (ToTensor), correctly rounded as a division, 16 or 8 bytes at a time. A division
    /// per pixel would cost more than the layer's forward pass, so it is a multiply by 1/255 and one FMA correction
    /// step (q = b·r, e = b − q·255, q + e·r): for every byte value that gives the division's bits (a test checks all
    /// 256), so the batch is what torchvision computes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void ToUnitInterval(ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("Destination too short.");
        const float R = 1f / 255f;
        int j = 0;
        fixed (byte* s = src)
        fixed (float* t = dst)
        {
            if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
            {
                var r = Vector512.Create(R);
                var n255 = Vector512.Create(-255f);
                for (; j <= src.Length - 16; j += 16)
                {
                    var b = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(s + j)));
                    var q = b * r;
                    Vector512.Store(Avx512F.FusedMultiplyAdd(Avx512F.FusedMultiplyAdd(q, n255, b), r, q), t + j);
                }
            }
            if (Avx2.IsSupported && Fma.IsSupported)
            {
                var r = Vector256.Create(R);
                var n255 = Vector256.Create(-255f);
                for (; j <= src.Length - 8; j += 8)
                {
                    var b = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(s + j));
                    var q = b * r;
                    Avx.Store(t + j, Fma.MultiplyAdd(Fma.MultiplyAdd(q, n255, b), r, q));
                }
            }
            for (; j < src.Length; j++) t[j] = s[j] / 255f;
        }
    }
}
