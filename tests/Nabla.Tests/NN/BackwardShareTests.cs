using Nabla.NN;
using Nabla.Tensors;

namespace Nabla.Tests.NN;

/// <summary>
/// The data-parallel step without MPI: N threads play N processes, each running <see cref="BatchEngine.ForwardShare"/>
/// and <see cref="BatchEngine.BackwardShare"/> on its share of the batch, and must leave every parameter gradient with
/// the bits of the one-process backward of the whole batch — for any N, uneven shares, more processes than a layer
/// has outputs, and both GEMM algorithms a weight gradient may take (a batch of 64 or fewer rows takes another kernel).
/// </summary>
public sealed class BackwardShareTests
{
    [Theory]
    [InlineData(2, 256)]
    [InlineData(3, 256)]
    [InlineData(4, 37)]
    [InlineData(3, 64)]
    [InlineData(5, 7)]
    [InlineData(1, 20)]
    public void SharedAmongProcesses_GradientsAreThePlainBackwardsBits(int processes, int batch)
    {
        var rng = new Rng(7);
        var model = new Sequential(new Flatten(), new Linear(40, 96, rng), new Relu(), new Linear(96, 33, rng), new Sigmoid(), new Linear(33, 3, rng));
        var x = new float[batch * 40];
        var dOut = new float[batch * 3];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextGaussian();
        for (int i = 0; i < dOut.Length; i++) dOut[i] = (float)rng.NextGaussian() / batch;

        var plain = new BatchEngine(model, 40, batch);
        var plainOutput = plain.Forward(x, batch).ToArray();
        plain.Backward(dOut, overwrite: true, sink: null);
        var expected = model.Parameters().Select(p => p.Grad!.Data.ToArray()).ToArray();
        foreach (var p in model.Parameters()) p.Grad!.Data.Fill(float.NaN); // every element must be written again

        var hub = new Hub(processes);
        var outputs = new float[processes][];
        var threads = Enumerable.Range(0, processes).Select(rank => new Thread(() =>
        {
            var engine = new BatchEngine(model, 40, batch);
            var sharing = new ThreadSharing(hub, rank);
            outputs[rank] = engine.ForwardShare((float[])x.Clone(), batch, sharing).ToArray();
            engine.BackwardShare((float[])dOut.Clone(), sharing);
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();

        foreach (var output in outputs) Assert.Equal(Bits(plainOutput), Bits(output)); // every process holds every row of the output
        var parameters = model.Parameters();
        for (int i = 0; i < parameters.Length; i++) Assert.Equal(Bits(expected[i]), Bits(parameters[i].Grad!.Data.ToArray()));
    }

    private static uint[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToUInt32Bits)];

    /// <summary>What the threads share: each gather's buffers, published between two barriers.</summary>
    private sealed class Hub(int size)
    {
        public readonly int Size = size;
        public readonly Barrier Barrier = new(size);
        public readonly float[][] Published = new float[size][];
    }

    /// <summary>
    /// One "process": a gather publishes this thread's buffer, waits for all, copies the others' shares of rows out of
    /// theirs, and waits again before anyone writes on. Gradients need no copy: the threads share the model, so each
    /// writes its rows of the same gradient.
    /// </summary>
    private sealed class ThreadSharing(Hub hub, int rank) : IRowSharing
    {
        public int Rank => rank;

        public int Size => hub.Size;

        public void AllGatherRows(Span<float> buffer, int rows, int width)
        {
            var mine = new float[buffer.Length];
            buffer.CopyTo(mine);
            hub.Published[rank] = mine;
            hub.Barrier.SignalAndWait();
            for (int k = 0; k < Size; k++)
            {
                if (k == rank) continue;
                var (start, end) = IRowSharing.Share(rows, k, Size);
                hub.Published[k].AsSpan(start * width, (end - start) * width).CopyTo(buffer[(start * width)..]);
            }
            hub.Barrier.SignalAndWait();
        }

        public void AllGatherGradient(Tensor parameter, int rows, int width) => hub.Barrier.SignalAndWait(); // every share written before any is read
    }
}
