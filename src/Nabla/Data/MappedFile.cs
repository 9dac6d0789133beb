using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace Nabla.Data;

/// <summary>
/// Bytes of a file mapped read-only into memory, as a <see cref="Memory{T}"/>: the page cache's own copy, shared by
/// every process on the host that maps the same file (data-parallel processes read one copy of the dataset, not one
/// each), read from disk only as pages are touched. Written by hand because .NET offers the mapping
/// (<see cref="MemoryMappedFile"/>) but no <see cref="Memory{T}"/> over one.
/// </summary>
internal sealed unsafe class MappedFile : MemoryManager<byte>
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _start;
    private readonly int _length;

    private MappedFile(MemoryMappedFile file, MemoryMappedViewAccessor view, long offset, int length)
    {
        (_file, _view, _length) = (file, view, length);
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _start = p + view.PointerOffset + offset;
    }

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="path"/> from <paramref name="offset"/>.</summary>
    /// <exception cref="IOException">The file cannot be mapped (or is shorter than asked).</exception>
    public static Memory<byte> Map(string path, long offset, int length)
    {
        var stream = InputFile.OpenRead(path);
        try
        {
            if (stream.Length < offset + length) throw new IOException($"{path} holds {stream.Length} bytes; {offset + length} were expected.");
            var file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            var view = file.CreateViewAccessor(0, offset + length, MemoryMappedFileAccess.Read);
            return new MappedFile(file, view, offset, length).Memory;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public override Span<byte> GetSpan() => new(_start, _length);

    /// <inheritdoc/>
    public override MemoryHandle Pin(int elementIndex = 0) => new(_start + elementIndex);

    /// <inheritdoc/>
    public override void Unpin() { }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
