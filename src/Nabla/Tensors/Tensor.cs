using System.Globalization;
using System.Text;
using Nabla.Devices;

namespace Nabla.Tensors;

/// <summary>
/// A float32 tensor of rank 0 to 4: contiguous row-major storage plus a <see cref="Shape"/>, and the
/// autograd fields (<see cref="RequiresGrad"/>, <see cref="Grad"/>). Views (reshape, row slices) share
/// storage with their source. This layer knows no autograd: the operations, the operators and
/// <c>Backward</c> live in <c>Nabla.Autograd</c> (<c>Ops</c> and the <c>TensorAutograd</c> extensions), which
/// records each operation as an <see cref="IGradFunction"/>.
/// </summary>
public sealed class Tensor
{
    // Not readonly: a TensorArena moves a parameter into its contiguous buffer once (MoveInto).
    internal float[] Storage;
    internal int Offset;

    /// <summary>The arena this tensor was gathered into or created in, if any.</summary>
    internal TensorArena? Arena;

    /// <summary>The device memory this tensor views, or null for a host tensor (then <see cref="Storage"/> holds it).</summary>
    internal readonly IDeviceStorage? DeviceStorage;

    /// <summary>The dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>Whether operations on this tensor are recorded so that gradients flow back to it.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The gradient accumulated by <c>Backward()</c> for a leaf tensor; null until then.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The operation that produced this tensor, when it was recorded; null for leaves.</summary>
    internal IGradFunction? GradFn { get; set; }

    /// <summary>Gradient being accumulated during one backward pass (non-leaf tensors).</summary>
    internal float[]? PendingGrad;

    /// <summary>Set once a backward pass has consumed the graph that produced this tensor.</summary>
    internal bool GraphReleased;

    internal Tensor(float[] storage, int offset, Shape shape)
    {
        if (offset < 0 || offset + shape.Size > storage.Length)
            throw new ArgumentException($"Storage of {storage.Length} floats at offset {offset} cannot hold shape {shape}.");
        Storage = storage;
        Offset = offset;
        Shape = shape;
    }

    private Tensor(IDeviceStorage storage, int offset, Shape shape)
    {
        if (offset < 0 || offset + shape.Size > storage.Length)
            throw new ArgumentException($"Device storage of {storage.Length} floats at offset {offset} cannot hold shape {shape}.");
        Storage = [];
        DeviceStorage = storage;
        Offset = offset;
        Shape = shape;
    }

    /// <summary>A new zeroed tensor of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor Zeros(Shape shape, Device device) =>
        device.IsCpu ? new Tensor(shape) : new Tensor(Compute.ComputeContext.Current.Backends.Get(device).Allocate(shape.Size), 0, shape);

    /// <summary>
    /// Moves this host tensor's elements to <paramref name="storage"/> at <paramref name="offset"/> and makes that its
    /// storage (a <see cref="TensorArena"/> gathering parameters). Views taken of it before keep the old storage.
    /// </summary>
    internal void MoveInto(float[] storage, int offset)
    {
        if (DeviceStorage is not null) throw new InvalidOperationException("A device tensor cannot move into a host arena.");
        Data.CopyTo(storage.AsSpan(offset, Size));
        (Storage, Offset) = (storage, offset);
    }

    /// <summary>Another tensor over the same storage (host or device) with another offset and shape.</summary>
    internal Tensor View(int offset, Shape shape) =>
        DeviceStorage is null ? new Tensor(Storage, offset, shape) : new Tensor(DeviceStorage, offset, shape);

    /// <summary>Where the data lives: <c>cpu</c>, or the device whose backend owns it.</summary>
    public Device Device => DeviceStorage?.Backend.Device ?? Device.Cpu;

    /// <summary>Where this tensor starts in its device storage (device tensors only).</summary>
    internal DeviceSlice Slice => new(DeviceStorage ?? throw new InvalidOperationException("A host tensor has no device slice."), Offset);

    /// <summary>
    /// This tensor on <paramref name="device"/>: itself when already there, else a copy (torch's <c>.to</c>). The
    /// only way data crosses between host and device; the copy has no gradient history.
    /// </summary>
    /// <exception cref="InvalidOperationException">No backend is registered for the device.</exception>
    public Tensor To(Device device)
    {
        if (device == Device) return this;
        if (device.IsCpu)
        {
            var host = new Tensor(Shape);
            DeviceStorage!.Download(host.Data, Offset);
            return host;
        }
        var storage = Compute.ComputeContext.Current.Backends.Get(device).Allocate(Size);
        if (DeviceStorage is null) storage.Upload(Data, 0);
        else
        {
            var staging = new float[Size]; // device to device goes through the host: explicit and rare
            DeviceStorage.Download(staging, Offset);
            storage.Upload(staging, 0);
        }
        return new Tensor(storage, 0, Shape);
    }

    /// <summary>This tensor on the host (<c>.To(Device.Cpu)</c>).</summary>
    public Tensor Cpu() => To(Device.Cpu);

    /// <summary>Creates a tensor over a new zeroed buffer of the given shape.</summary>
    public Tensor(Shape shape) : this(new float[shape.Size], 0, shape) { }

    /// <summary>Number of elements.</summary>
    public int Size => Shape.Size;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>The elements in row-major order; writes go to the tensor (and to every view of it).</summary>
    /// <exception cref="InvalidOperationException">The tensor lives on a device: call <see cref="Cpu"/> first.</exception>
    public Span<float> Data => DeviceStorage is null ? Storage.AsSpan(Offset, Shape.Size) : throw OnDevice();

    private InvalidOperationException OnDevice() =>
        new($"This tensor lives on {Device}; its values are not on the host. Call .Cpu() (or .To(Device.Cpu)) to read them.");

    /// <summary>True for a tensor that requires grad and was not produced by a recorded operation.</summary>
    public bool IsLeaf => GradFn is null;

    // ---- creation -------------------------------------------------------------------------------

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape) => new(new Shape(shape));

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var t = new Tensor(new Shape(shape));
        t.Data.Fill(value);
        return t;
    }

    /// <summary>A rank-0 tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(float value)
    {
        var t = new Tensor(new Shape());
        t.Data[0] = value;
        return t;
    }

    /// <summary>A tensor holding a copy of <paramref name="values"/> with the given shape (default: 1-D).</summary>
    /// <exception cref="ArgumentException">The shape's size differs from the number of values.</exception>
    public static Tensor FromArray(float[] values, params int[] shape)
    {
        var s = shape.Length == 0 ? new Shape(values.Length) : new Shape(shape);
        if (s.Size != values.Length)
            throw new ArgumentException($"{values.Length} values do not fill shape {s} ({s.Size} elements).");
        return new Tensor((float[])values.Clone(), 0, s);
    }

    /// <summary>A 2-D tensor from a rectangular array of rows.</summary>
    public static Tensor FromRows(float[][] rows)
    {
        int cols = rows.Length == 0 ? 0 : rows[0].Length;
        var t = new Tensor(new Shape(rows.Length, cols));
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length != cols) throw new ArgumentException($"Row {i} has {rows[i].Length} values; row 0 has {cols}.");
            rows[i].CopyTo(t.Data.Slice(i * cols, cols));
        }
        return t;
    }

    /// <summary>Wraps <paramref name="storage"/> without copying.</summary>
    public static Tensor Wrap(float[] storage, params int[] shape) => new(storage, 0, shape.Length == 0 ? new Shape(storage.Length) : new Shape(shape));

    /// <summary>The values start, start+step, … below end, as torch.arange.</summary>
    public static Tensor Arange(float start, float end, float step = 1f)
    {
        if (step == 0 || float.IsNaN(step)) throw new ArgumentException("arange: step must be non-zero.");
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var t = new Tensor(new Shape(n));
        for (int i = 0; i < n; i++) t.Data[i] = start + i * step;
        return t;
    }

    /// <summary>Independent uniform samples in [<paramref name="low"/>, <paramref name="high"/>) from <paramref name="rng"/>.</summary>
    public static Tensor Uniform(Shape shape, float low, float high, Rng rng)
    {
        var t = new Tensor(shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = low + (high - low) * rng.NextSingle();
        return t;
    }

    /// <summary>Independent normal samples with the given mean and standard deviation from <paramref name="rng"/>.</summary>
    public static Tensor Normal(Shape shape, float mean, float std, Rng rng)
    {
        var t = new Tensor(shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = mean + std * (float)rng.NextGaussian();
        return t;
    }

    // ---- views ----------------------------------------------------------------------------------

    /// <summary>A view of the same storage with no gradient history.</summary>
    public Tensor Detach() => View(Offset, Shape);

    /// <summary>A deep copy with no gradient history.</summary>
    public Tensor Clone() => DeviceStorage is null ? new((float[])Data.ToArray(), 0, Shape) : Cpu().To(Device);

    // ---- autograd -------------------------------------------------------------------------------

    /// <summary>Sets <see cref="Grad"/> to null, as PyTorch's <c>zero_grad(set_to_none=True)</c>.</summary>
    public void ZeroGrad() => Grad = null;

    /// <summary>Marks this tensor as requiring gradients and returns it.</summary>
    public Tensor RequireGrad() { RequiresGrad = true; return this; }

    // ---- reading --------------------------------------------------------------------------------

    /// <summary>The single value of a one-element tensor.</summary>
    public float Item()
    {
        if (Size != 1) throw new InvalidOperationException($"Item() needs a one-element tensor; shape is {Shape}.");
        return Data[0];
    }

    /// <summary>A copy of the elements in row-major order.</summary>
    public float[] ToArray() => Data.ToArray();

    /// <summary>The element at the given indices.</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public float this[params int[] index]
    {
        get => Data[FlatIndex(index)];
        set => Data[FlatIndex(index)] = value;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"{index.Length} indices for shape {Shape}.");
        int flat = 0;
        for (int i = 0; i < Rank; i++)
        {
            if ((uint)index[i] >= (uint)Shape[i]) throw new IndexOutOfRangeException($"Index {index[i]} out of range for dimension {i} of shape {Shape}.");
            flat = flat * Shape[i] + index[i];
        }
        return flat;
    }

    /// <summary>Formats as PyTorch prints: <c>tensor([0.7311, 0.7311])</c>, 4 decimals.</summary>
    public override string ToString() => ToString(4);

    /// <summary>Formats with the given number of decimals.</summary>
    public string ToString(int decimals)
    {
        if (DeviceStorage is not null) return Cpu().ToString(decimals)[..^1] + $", device='{Device}')";
        var sb = new StringBuilder("tensor(");
        Format(sb, 0, 0, decimals, 7);
        if (GradFn is not null) sb.Append(", grad_fn=<").Append(GradFn.Name).Append('>');
        else if (RequiresGrad) sb.Append(", requires_grad=True");
        return sb.Append(')').ToString();
    }

    private int Format(StringBuilder sb, int dim, int offset, int decimals, int indent)
    {
        var d = Data;
        if (Rank == 0) { sb.Append(Fmt(d[0], decimals)); return 1; }
        int n = Shape[dim];
        sb.Append('[');
        int stride = Shape.Inner(dim);
        for (int i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(dim == Rank - 1 ? ", " : ",\n" + new string(' ', indent + dim + 1));
            if (dim == Rank - 1) sb.Append(Fmt(d[offset + i], decimals));
            else Format(sb, dim + 1, offset + i * stride, decimals, indent);
        }
        sb.Append(']');
        return n;
    }

    private static string Fmt(float v, int decimals)
    {
        string s = v.ToString("F" + decimals, CultureInfo.InvariantCulture);
        return v >= 0 && !s.StartsWith('-') ? " " + s : s;
    }
}
