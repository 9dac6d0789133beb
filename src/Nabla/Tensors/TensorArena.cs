using System.Runtime.CompilerServices;

namespace Nabla.Tensors;

/// <summary>
/// Tensors laid out one after another in one contiguous buffer, each starting on a 64-byte boundary: a model's
/// parameters, their gradients, an optimizer's state buffers. Arenas of the same layout (<see cref="Like"/>) line
/// up element for element, so a rule that goes element by element — an optimizer step, clearing the gradients, an
/// exchange of gradients between processes — is one loop over <see cref="Data"/> instead of one per tensor.
/// </summary>
/// <remarks>
/// The padding between tensors is zero and stays zero under every update rule (a zero gradient and zero state leave
/// a zero parameter zero), so whole-arena loops may run over it.
/// </remarks>
public sealed class TensorArena
{
    private const int Align = 16; // floats: 64 bytes, a cache line and an AVX-512 register
    // The arena starts on a page and owns whole pages, so that processes on one host can map shared memory over it
    // (Nabla.Distributed shares a model's parameters so) without touching any other object's bytes.
    private static readonly int PageFloats = Math.Max(Environment.SystemPageSize / sizeof(float), Align);
    private readonly float[] _buffer;
    private readonly int _base; // where element 0 lies in _buffer (page-aligned)
    private readonly int[] _offsets; // from _base
    private readonly Tensor[] _tensors;

    private TensorArena(IReadOnlyList<Shape> shapes)
    {
        _offsets = new int[shapes.Count];
        long length = 0;
        for (int i = 0; i < shapes.Count; i++)
        {
            _offsets[i] = (int)length;
            length += (shapes[i].Size + Align - 1) / Align * Align;
        }
        if (length > Array.MaxLength - 2L * PageFloats) throw new InsufficientMemoryException($"An arena of {length:N0} floats is larger than an array can be.");
        Length = (int)length;
        (_buffer, _base) = AllocatePages(Length);
        _tensors = new Tensor[shapes.Count];
        for (int i = 0; i < shapes.Count; i++) _tensors[i] = new Tensor(_buffer, _base + _offsets[i], shapes[i]) { Arena = this };
    }

    /// <summary>
    /// A zeroed pinned array holding whole pages for <paramref name="floats"/> from <c>Start</c>, a page's first
    /// element: the pinned object heap never moves it, so the start computed now stays a page's.
    /// </summary>
    internal static (float[] Buffer, int Start) AllocatePages(int floats)
    {
        var buffer = GC.AllocateArray<float>(RoundToPages(floats) + PageFloats, pinned: true);
        return (buffer, PageStart(buffer));
    }

    /// <summary><paramref name="floats"/> rounded up to whole pages.</summary>
    internal static int RoundToPages(int floats) => (floats + PageFloats - 1) / PageFloats * PageFloats;

    /// <summary>The index in <paramref name="buffer"/> (pinned) of its first element that starts a page.</summary>
    private static unsafe int PageStart(float[] buffer)
    {
        long address = (long)Unsafe.AsPointer(ref buffer[0]);
        int misalignment = (int)(address % (PageFloats * sizeof(float)));
        return misalignment == 0 ? 0 : (PageFloats * sizeof(float) - misalignment) / sizeof(float);
    }

    /// <summary>Floats in the whole pages from <see cref="Data"/>'s start that the arena owns: <see cref="Length"/> rounded up to a page.</summary>
    internal int PagedLength => RoundToPages(Length);

    /// <summary>The buffer and where its pages of this arena start (see <see cref="PagedLength"/>): what may be mapped over.</summary>
    internal (float[] Buffer, int Start) Pages => (_buffer, _base);

    /// <summary>A zeroed arena holding one new tensor per shape, in order.</summary>
    public static TensorArena Create(IReadOnlyList<Shape> shapes) => new(shapes);

    /// <summary>
    /// Moves <paramref name="tensors"/> (host tensors, each owning its storage, none in an arena yet) into one new
    /// arena, values kept: from now on each is a view into it. Returns the arena that already holds exactly these
    /// tensors, in this order, if there is one.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor lives on a device, shares its storage, is listed twice or is in another arena.</exception>
    public static TensorArena Gather(IReadOnlyList<Tensor> tensors)
    {
        if (Holding(tensors) is { } existing) return existing;
        if (CannotGather(tensors) is { } why) throw new ArgumentException(why, nameof(tensors));
        var arena = new TensorArena([.. tensors.Select(t => t.Shape)]);
        for (int i = 0; i < tensors.Count; i++)
        {
            tensors[i].MoveInto(arena._buffer, arena._base + arena._offsets[i]);
            tensors[i].Arena = arena;
            arena._tensors[i] = tensors[i];
        }
        return arena;
    }

    /// <summary>
    /// The arena of <paramref name="parameters"/> with its gradient arena attached: the one that already holds them,
    /// or a new one gathering them; null when they cannot be one arena (on a device, views, split between arenas).
    /// </summary>
    public static TensorArena? OfParameters(IReadOnlyList<Tensor> parameters)
    {
        if (parameters.Count == 0) return null;
        var arena = Holding(parameters) ?? (CannotGather(parameters) is null ? Gather(parameters) : null);
        arena?.AttachGradients();
        return arena;
    }

    /// <summary>Why <paramref name="tensors"/> cannot be gathered into a new arena, or null when they can.</summary>
    public static string? CannotGather(IReadOnlyList<Tensor> tensors)
    {
        var seen = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        foreach (var t in tensors)
        {
            if (t.DeviceStorage is not null) return $"A tensor of shape {t.Shape} lives on {t.Device}: arenas are host memory.";
            if (t.Arena is not null) return $"A tensor of shape {t.Shape} is already in another arena.";
            if (t.Offset != 0 || t.Storage.Length != t.Size || !seen.Add(t.Storage))
                return $"A tensor of shape {t.Shape} shares its storage (a view, or listed twice): moving it would cut it off from the rest.";
        }
        return null;
    }

    /// <summary>The arena whose tensors are exactly <paramref name="tensors"/>, in order; else null.</summary>
    public static TensorArena? Holding(IReadOnlyList<Tensor> tensors)
    {
        if (tensors.Count == 0 || tensors[0].Arena is not { } arena || arena._tensors.Length != tensors.Count) return null;
        for (int i = 0; i < tensors.Count; i++)
            if (!ReferenceEquals(arena._tensors[i], tensors[i])) return null;
        return arena;
    }

    /// <summary>A zeroed arena with the same layout: its tensor <c>i</c> lines up with this one's, element for element.</summary>
    public TensorArena Like() => new([.. _tensors.Select(t => t.Shape)]);

    /// <summary>The number of tensors.</summary>
    public int Count => _tensors.Length;

    /// <summary>Tensor <paramref name="index"/> (a view into the arena).</summary>
    public Tensor this[int index] => _tensors[index];

    /// <summary>Where tensor <paramref name="index"/> starts in <see cref="Data"/>.</summary>
    public int OffsetOf(int index) => _offsets[index];

    /// <summary>Floats in <see cref="Data"/>: every tensor and the padding that aligns the next one.</summary>
    public int Length { get; }

    /// <summary>All of the arena, padding included.</summary>
    public Span<float> Data => _buffer.AsSpan(_base, Length);

    /// <summary>Whether <paramref name="t"/> is this arena's tensor <paramref name="index"/> (not a copy, not a view of another buffer).</summary>
    internal bool Holds(Tensor t, int index) => ReferenceEquals(t.Storage, _buffer) && t.Offset == _base + _offsets[index];

    /// <summary>
    /// The gradients of this arena's tensors as an arena of the same layout, once <see cref="AttachGradients"/> made
    /// it; null before.
    /// </summary>
    public TensorArena? Gradients { get; private set; }

    /// <summary>
    /// Makes <see cref="Gradients"/> (once) and points the <see cref="Tensor.Grad"/> of each tensor that requires a
    /// gradient at its view there, keeping any gradient it already had. A tensor that does not require one keeps a
    /// null gradient, so an optimizer still skips it.
    /// </summary>
    public TensorArena AttachGradients()
    {
        var gradients = Gradients ??= Like();
        for (int i = 0; i < _tensors.Length; i++)
        {
            var t = _tensors[i];
            if (!t.RequiresGrad || (t.Grad is { } g && gradients.Holds(g, i))) continue;
            t.Grad?.Data.CopyTo(gradients[i].Data);
            t.Grad = gradients[i];
        }
        return gradients;
    }

    /// <summary>
    /// Clears the gradients of <paramref name="parameters"/> (keeping them allocated): one clear of their gradient arena
    /// when they have one, plus any gradient that was replaced by a tensor of its own since.
    /// </summary>
    public static void ZeroGradients(IReadOnlyList<Tensor> parameters)
    {
        var arena = Holding(parameters)?.Gradients;
        arena?.Clear();
        for (int i = 0; i < parameters.Count; i++)
            if (parameters[i].Grad is { } g && (arena is null || !arena.Holds(g, i))) g.Data.Clear();
    }

    /// <summary>Sets every element, padding included, to zero.</summary>
    public void Clear() => Data.Clear();
}
