using Nabla.Cuda;

namespace Nabla.Tests.Cuda;

/// <summary>
/// One ILGPU CPU accelerator, registered as cuda:0, shared by the CUDA tests (opening one costs ~0.1 s and each
/// kernel compiles once per accelerator). The tests that use it run serially in the "Cuda" collection.
/// </summary>
public sealed class SimulatorFixture : IDisposable
{
    public CudaBackend Backend { get; } = CudaBackend.OpenSimulator();

    public void Dispose() => Backend.Dispose();
}

[CollectionDefinition("Cuda")]
public sealed class CudaCollection : ICollectionFixture<SimulatorFixture>;
