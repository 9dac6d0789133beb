using Nabla.Autograd;
using Nabla.Backprop;
using Nabla.Tensors;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Backprop;

public class BackpropTests
{
    // Section 8.5.2: x = (1, 0, −1), y = (0, 1), W0 = [[0, 1, −1], [2, 0, 1]], W1 = [[−1, 0], [2, −1]].
    private static readonly DMatrix W0 = DMatrix.FromRows([0, 1, -1], [2, 0, 1]);
    private static readonly DMatrix W1 = DMatrix.FromRows([-1, 0], [2, -1]);

    private static void AssertTextbookNumbers(BackpropResult r)
    {
        // W0 x = (1, 1), so z1 = (σ(1), σ(1)); the textbook prints every value below to 4 decimals.
        Assert.Equal(0.7311, r.Z[1].Data[0], 4);
        Assert.Equal(0.7311, r.Z[1].Data[1], 4);
        Assert.Equal(0.1881, r.Z[2].Data[0], 4);
        Assert.Equal(0.8119, r.Z[2].Data[1], 4);
        Assert.Equal(0.2084, r.Loss, 4);
        Close.All([-0.1110, 0, 0.1110, 0.0370, 0, -0.0370], r.Gradients[0].Data, atol: 5e-5, rtol: 0);
        Close.All([0.1375, 0.1375, -0.1375, -0.1375], r.Gradients[1].Data, atol: 5e-5, rtol: 0);
    }

    [Fact]
    public void Literal_WorkedExample_ReproducesTextbookNumbers() =>
        AssertTextbookNumbers(LiteralBackprop.Run([W0, W1], [1, 0, -1], [0, 1]));

    [Fact]
    public void Structured_WorkedExample_ReproducesTextbookNumbers() =>
        AssertTextbookNumbers(StructuredBackprop.Run([W0, W1], DMatrix.Row(1, 0, -1), DMatrix.Row(0, 1)));

    [Fact]
    public void Autograd_WorkedExample_ReproducesTextbookNumbers()
    {
        var x = Tensor.FromArray([1f, 0f, -1f]);
        var y = Tensor.FromArray([0f, 1f]);
        var w0 = Tensor.FromRows([[0f, 1f, -1f], [2f, 0f, 1f]]).RequireGrad();
        var w1 = Tensor.FromRows([[-1f, 0f], [2f, -1f]]).RequireGrad();
        var z1 = w0.MatMul(x).Sigmoid();
        var z2 = w1.MatMul(z1).Softmax(0);
        var f = z2.Log().Dot(y).Neg();
        f.Backward();
        Assert.Equal(0.7311f, z1.Data[0], 4);
        Assert.Equal(0.8119f, z2.Data[1], 4);
        Assert.Equal(0.2084f, f.Item(), 4);
        Close.All([-0.1110f, 0f, 0.1110f, 0.0370f, 0f, -0.0370f], w0.Grad!.Data, atol: 5e-5, rtol: 0);
        Close.All([0.1375f, 0.1375f, -0.1375f, -0.1375f], w1.Grad!.Data, atol: 5e-5, rtol: 0);
    }

    [Fact]
    public void Literal_Blocks_HaveTheTextbookShapes()
    {
        var r = LiteralBackprop.Run([W0, W1], [1, 0, -1], [0, 1]);
        Assert.Equal((2, 3), (r.A[0].Rows, r.A[0].Cols));   // Ã = diag(σ′)𝒲_0
        Assert.Equal((2, 6), (r.B[0].Rows, r.B[0].Cols));   // B̃ = diag(σ′) ⊗ z_0ᵀ
        Assert.Equal((2, 4), (r.B[1].Rows, r.B[1].Cols));   // D̃ = J_γ ⊗ z_1ᵀ
        Assert.Equal(3, r.Adjoints.Count);                  // p_0, p_1, p_2
    }

    public static IEnumerable<object[]> RandomMlps()
    {
        var rng = new Rng(2024);
        for (int c = 0; c < 24; c++)
        {
            int depth = 1 + c % 4;                      // hidden layers L: 1–4
            int batch = 1 + rng.NextInt(17);            // 1–17
            var widths = new int[depth + 2];
            for (int i = 0; i < widths.Length; i++) widths[i] = 1 + rng.NextInt(c % 3 == 0 ? 50 : 12);
            widths[^1] = Math.Max(2, widths[^1]);
            yield return [widths, batch, c % 2 == 0, (ulong)c];
        }
    }

    [Theory]
    [MemberData(nameof(RandomMlps))]
    public void ExplicitBothForms_EqualAutograd(int[] widths, int batch, bool bias, ulong seed)
    {
        var rng = new Rng(seed);
        int layers = widths.Length - 1, k = widths[^1];
        var weights = new List<DMatrix>();
        for (int i = 0; i < layers; i++)
        {
            var w = new DMatrix(widths[i + 1], widths[i] + (bias ? 1 : 0));
            for (int j = 0; j < w.Data.Length; j++) w.Data[j] = (rng.NextSingle() * 2 - 1) * 1.5;
            weights.Add(w);
        }
        var x = new DMatrix(batch, widths[0]);
        for (int j = 0; j < x.Data.Length; j++) x.Data[j] = rng.NextSingle() * 2 - 1;
        var labels = new int[batch];
        var y = new DMatrix(batch, k);
        for (int r = 0; r < batch; r++) { labels[r] = rng.NextInt(k); y[r, labels[r]] = 1; }

        var structured = StructuredBackprop.Run(weights, x, y, bias);

        // The literal form is per sample; the batch gradient is the mean of the per-sample q_i.
        var literalSum = weights.Select(w => new DMatrix(w.Rows, w.Cols)).ToArray();
        double literalLoss = 0;
        for (int r = 0; r < batch; r++)
        {
            var one = LiteralBackprop.Run(weights, x.Data.AsSpan(r * widths[0], widths[0]).ToArray(), y.Data.AsSpan(r * k, k).ToArray(), bias);
            literalLoss += one.Loss / batch;
            for (int i = 0; i < layers; i++) literalSum[i] = literalSum[i] + (1.0 / batch) * one.Gradients[i];
        }
        Assert.Equal(structured.Loss, literalLoss, 9);
        for (int i = 0; i < layers; i++) Close.All(literalSum[i].Data, structured.Gradients[i].Data, 1e-10, 1e-8, $"q{i}");

        // Autograd on the same network in float32.
        var ws = new List<Tensor>(); var bs = new List<Tensor>();
        var z = Tensor.FromArray(x.Data.Select(v => (float)v).ToArray(), batch, widths[0]);
        for (int i = 0; i < layers; i++)
        {
            int nIn = widths[i];
            var w = Tensor.FromArray(Enumerable.Range(0, widths[i + 1] * nIn).Select(j => (float)weights[i][j / nIn, j % nIn]).ToArray(), widths[i + 1], nIn).RequireGrad();
            var b = bias ? Tensor.FromArray(Enumerable.Range(0, widths[i + 1]).Select(o => (float)weights[i][o, nIn]).ToArray()).RequireGrad() : null;
            ws.Add(w); if (b is not null) bs.Add(b);
            var t = Ops.Linear(z, w, b);
            z = i < layers - 1 ? t.Sigmoid() : t;
        }
        var loss = Ops.CrossEntropy(z, labels);
        loss.Backward();
        Assert.Equal(structured.Loss, loss.Item(), 4);
        for (int i = 0; i < layers; i++)
        {
            int nIn = widths[i];
            var q = structured.Gradients[i];
            var expectedW = Enumerable.Range(0, ws[i].Size).Select(j => (float)q[j / nIn, j % nIn]).ToArray();
            Close.All(expectedW, ws[i].Grad!.Data, 2e-5, 1e-3, $"W{i}");
            if (bias)
            {
                var expectedB = Enumerable.Range(0, widths[i + 1]).Select(o => (float)q[o, nIn]).ToArray();
                Close.All(expectedB, bs[i].Grad!.Data, 2e-5, 1e-3, $"b{i}");
            }
        }
    }
}
