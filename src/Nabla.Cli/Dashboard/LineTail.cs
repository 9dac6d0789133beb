namespace Nabla.Cli.Dashboard;

/// <summary>
/// Follows a file that another process appends lines to (a run's events.jsonl): each <see cref="ReadAsync"/> returns
/// the complete lines written since the last call, never a partial one. A line longer than the limit (no recorder
/// writes one: a damaged or hostile file) is dropped, so memory stays bounded by the limit whatever the file holds.
/// </summary>
internal sealed class LineTail(FileStream file, int maxLine) : IAsyncDisposable
{
    private readonly List<byte> _pending = [];
    private readonly byte[] _chunk = new byte[64 * 1024];
    private bool _skipping; // inside an over-long line: drop up to its end

    /// <summary>The byte offset just after the last line returned (or skipped).</summary>
    public long Offset { get; private set; } = file.Position;

    /// <summary>How many bytes of lines one read returns at most (the rest comes with the next): a file read from its
    /// start, or one that grows as fast as it is read, still costs bounded memory per call.</summary>
    public const int MaxBatch = 4 << 20;

    /// <summary>Moves to <paramref name="offset"/> (a line's start: what <see cref="Offset"/> said earlier).</summary>
    public void Seek(long offset)
    {
        file.Position = offset;
        Offset = offset;
        _pending.Clear();
        _skipping = false;
    }

    /// <summary>The complete, non-empty lines appended since the last call (without their newlines), up to about <see cref="MaxBatch"/> bytes.</summary>
    public async Task<List<byte[]>> ReadAsync()
    {
        var lines = new List<byte[]>();
        long batch = 0;
        int read;
        while (batch < MaxBatch && (read = await file.ReadAsync(_chunk).ConfigureAwait(false)) > 0)
        {
            _pending.AddRange(_chunk.AsSpan(0, read));
            int newline;
            while ((newline = _pending.IndexOf((byte)'\n')) >= 0)
            {
                var line = _pending.GetRange(0, newline).ToArray();
                _pending.RemoveRange(0, newline + 1);
                Offset += newline + 1;
                if (_skipping) _skipping = false; // the end of an over-long line: what follows is read again
                else if (line.Length > 0)
                {
                    lines.Add(line);
                    batch += line.Length;
                }
            }
            if (_pending.Count > maxLine)
            {
                Offset += _pending.Count;
                _pending.Clear();
                _skipping = true;
            }
        }
        return lines;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => file.DisposeAsync();
}
