namespace Nabla.Data;

/// <summary>
/// Where an IDX dataset comes from: its four file names, their published MD5 checksums, the mirrors that
/// serve them, its class names, and the directory a system package installs it in.
/// </summary>
/// <param name="Name">Folder name under the cache, e.g. <c>fashion-mnist</c>.</param>
/// <param name="Title">Human name, e.g. <c>Fashion-MNIST</c>.</param>
/// <param name="Files">train images, train labels, test images, test labels (the .gz names).</param>
/// <param name="Md5">Published MD5 of each .gz file, same order.</param>
/// <param name="Mirrors">Base URLs, tried in order.</param>
/// <param name="ClassNames">Label names.</param>
/// <param name="SystemDirectory">Where a distribution package puts the files (null if none).</param>
/// <param name="SystemPackage">That package's name, for the error message.</param>
public sealed record DatasetSpec(string Name, string Title, string[] Files, string[] Md5, string[] Mirrors,
    string[] ClassNames, string? SystemDirectory, string? SystemPackage);
