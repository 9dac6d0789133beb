namespace Nabla.Compute;

/// <summary>
/// Work split into independent, numbered parts. An implementation is a reusable object whose fields hold the
/// arguments, so that running it in parallel allocates nothing (no closures).
/// </summary>
public interface IParallelBody
{
    /// <summary>Runs part <paramref name="index"/>; parts may run concurrently and in any order.</summary>
    void Run(int index);
}
