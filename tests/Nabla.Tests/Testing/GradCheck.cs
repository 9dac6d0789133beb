using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.Tests.Testing;

/// <summary>
/// Finite-difference gradient check. The function's output is projected onto fixed random weights r,
/// L = Σ r⊙f(x), accumulated in double; the analytical gradient of L from Backward() is compared with the
/// central difference (L(x+ε) − L(x−ε))/2ε per input element. Our tensors are float32, so ε is 1e-3
/// (not PyTorch gradcheck's 1e-6, which assumes float64) and the tolerances scale accordingly.
/// </summary>
public static class GradCheck
{
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-3, double atol = 2e-3, double rtol = 2e-2)
    {
        foreach (var x in inputs) { x.RequiresGrad = true; x.Grad = null; }
        var y = f(inputs);
        var rng = new Rng(7);
        var r = Tensor.Uniform(y.Shape, -1f, 1f, rng);
        y.Mul(r).Sum().Backward();
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            Assert.NotNull(x.Grad);
            var data = x.Data;
            for (int i = 0; i < data.Length; i++)
            {
                float saved = data[i];
                data[i] = (float)(saved + eps);
                double plus = Project(f, inputs, r);
                data[i] = (float)(saved - eps);
                double minus = Project(f, inputs, r);
                data[i] = saved;
                double numeric = (plus - minus) / (2 * eps);
                double analytic = x.Grad!.Data[i];
                Assert.True(Math.Abs(numeric - analytic) <= atol + rtol * Math.Abs(numeric),
                    $"input {k}, element {i}: analytic {analytic:G6}, numeric {numeric:G6}");
            }
        }
    }

    private static double Project(Func<Tensor[], Tensor> f, Tensor[] inputs, Tensor r)
    {
        using var _ = GradMode.NoGrad();
        var y = f(inputs).Data;
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += (double)y[i] * r.Data[i];
        return s;
    }
}
