namespace Nabla.Tensors.Kernels;

/// <summary>Told by <see cref="Gemm.RunObserved"/> when rows of C are final, so that work on them can follow at once.</summary>
internal interface IRowsObserver
{
    /// <summary>
    /// Rows [<paramref name="row0"/>, <paramref name="row0"/> + <paramref name="rows"/>) of C hold their final values.
    /// When <paramref name="whole"/> is false the call comes from inside a parallel part, on whichever thread ran it,
    /// concurrently with other parts: do the work serially and touch only those rows. When true, it is one call for
    /// all of C, after the GEMM, on the calling thread, which may use the worker pool.
    /// </summary>
    void RowsDone(int row0, int rows, bool whole);
}
