namespace Nabla.Data;

/// <summary>Progress of one file's download, reported as bytes arrive.</summary>
/// <param name="File">The file's name.</param>
/// <param name="Bytes">Bytes received so far.</param>
/// <param name="Total">Content length, when the server sends it.</param>
public readonly record struct DownloadProgress(string File, long Bytes, long? Total);
