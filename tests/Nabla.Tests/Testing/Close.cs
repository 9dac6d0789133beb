namespace Nabla.Tests.Testing;

/// <summary>Element-wise closeness assertions that name the first differing index.</summary>
public static class Close
{
    public static void All(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol = 1e-5, double rtol = 1e-4, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            Assert.True(Math.Abs(e - a) <= atol + rtol * Math.Abs(e), $"{what}[{i}]: expected {e:G9}, got {a:G9}");
        }
    }

    public static void All(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double atol = 1e-9, double rtol = 1e-7, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= atol + rtol * Math.Abs(expected[i]), $"{what}[{i}]: expected {expected[i]:G12}, got {actual[i]:G12}");
    }

    public static float[] Random(int n, int seed, float lo = -1, float hi = 1)
    {
        var rng = new Nabla.Tensors.Rng((ulong)seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.NextSingle();
        return a;
    }
}
