using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// The processes of a data-parallel job, as a layer sees them: each computes its share of a batch's rows (and of a
/// weight gradient's rows), and obtains the others' shares from them. Share k of <c>total</c> rows is
/// <see cref="Share"/>(total, k, Size): contiguous, in rank order, sizes differing by at most one.
/// </summary>
internal interface IRowSharing
{
    /// <summary>This process's index, 0 to <see cref="Size"/> − 1.</summary>
    int Rank { get; }

    /// <summary>How many processes share the work.</summary>
    int Size { get; }

    /// <summary>
    /// Fills the rows of <paramref name="buffer"/> (<paramref name="rows"/> × <paramref name="width"/>, row-major) that
    /// the other processes computed — process k's are rows <see cref="Share"/>(rows, k, Size) — leaving this process's
    /// own rows as they are. Every process calls it at the same point, with the same shape.
    /// </summary>
    void AllGatherRows(Span<float> buffer, int rows, int width);

    /// <summary>
    /// <see cref="AllGatherRows"/> of rows that are read only after the next <see cref="AllGatherRows"/> has returned:
    /// processes that share memory let that one wait for both (a layer's output read again only in the backward pass).
    /// </summary>
    void AllGatherRowsBeforeNext(Span<float> buffer, int rows, int width) => AllGatherRows(buffer, rows, width);

    /// <summary>
    /// <see cref="AllGatherRows"/> of <paramref name="parameter"/>'s gradient (<paramref name="rows"/> ×
    /// <paramref name="width"/>), which may still be under way when this returns: it is complete before the parameter
    /// is updated, while the backward pass goes on meanwhile.
    /// </summary>
    void AllGatherGradient(Tensor parameter, int rows, int width);

    /// <summary>Rows [Start, End) of <paramref name="total"/> are process <paramref name="rank"/>'s of <paramref name="size"/>.</summary>
    static (int Start, int End) Share(int total, int rank, int size) =>
        ((int)((long)total * rank / size), (int)((long)total * (rank + 1) / size));
}
