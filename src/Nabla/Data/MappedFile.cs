using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace Nabla.Data;

/// <summary>
/// Elements of a file mapped read-only into memory, as a <see cref="Memory{T}"/>: the page cache's own copy, shared by
/// every process on the host that maps the same file (data-parallel processes read one copy of the dataset, not one
/// each), read from disk only as pages are touched. Written by hand because .NET offers the mapping
/// (<see cref="MemoryMappedFile"/>) but no <see cref="Memory{T}"/> over one.
/// </summary>
internal static class MappedFile
{
    /// <summary>Maps <paramref name="count"/> elements of <paramref name="path"/> from byte <paramref name="offset"/> (a multiple of the element's size).</summary>
    /// <exception cref="IOException">The file cannot be mapped (or is shorter than asked).</exception>
    public static unsafe Memory<T> Map<T>(string path, long offset, int count) where T : unmanaged
    {
        if (offset % sizeof(T) != 0) throw new ArgumentException($"Offset {offset} is not a multiple of the element's {sizeof(T)} bytes.", nameof(offset));
        long bytes = (long)count * sizeof(T);
        var stream = InputFile.OpenRead(path);
        try
        {
            if (stream.Length < offset + bytes) throw new IOException($"{path} holds {stream.Length} bytes; {offset + bytes} were expected.");
            var file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            var view = file.CreateViewAccessor(0, offset + bytes, MemoryMappedFileAccess.Read);
            return new Manager<T>(file, view, offset, count).Memory;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private sealed unsafe class Manager<T> : MemoryManager<T> where T : unmanaged
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;
        private readonly T* _start;
        private readonly int _count;

        public Manager(MemoryMappedFile file, MemoryMappedViewAccessor view, long offset, int count)
        {
            (_file, _view, _count) = (file, view, count);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _start = (T*)(p + view.PointerOffset + offset);
        }

        public override Span<T> GetSpan() => new(_start, _count);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_start + elementIndex);

        public override void Unpin() { }

        protected override void Dispose(bool disposing)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }
}
