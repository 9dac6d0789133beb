using Nabla.Tensors;

namespace Nabla.Autograd;

public static partial class Ops
{
    /// <summary><c>|x|</c> element-wise; d/dx = sign(x) (0 at 0, as PyTorch).</summary>
    public static Tensor Abs(this Tensor x) => Map(x, "AbsBackward", MathF.Abs, (xi, _) => xi > 0 ? 1f : xi < 0 ? -1f : 0f);

    /// <summary><c>√x</c> element-wise; d/dx = 1/(2√x).</summary>
    public static Tensor Sqrt(this Tensor x) => Map(x, "SqrtBackward", MathF.Sqrt, (_, yi) => 0.5f / yi);

    /// <summary><c>xᵖ</c> element-wise for a constant exponent; d/dx = p·xᵖ⁻¹.</summary>
    public static Tensor Pow(this Tensor x, float exponent) =>
        exponent == 2f ? Mul(x, x) : Map(x, "PowBackward", v => MathF.Pow(v, exponent), (xi, _) => exponent * MathF.Pow(xi, exponent - 1f));

    /// <summary>An element-wise function with its derivative (given x and y = f(x)), on the host.</summary>
    private static Tensor Map(Tensor x, string name, Func<float, float> f, Func<float, float, float> derivative)
    {
        if (OnDevice(x)) throw NotOnDevice(name[..^8].ToLowerInvariant(), x);
        var y = new Tensor(x.Shape);
        var xs = x.Data;
        var ys = y.Data;
        for (int i = 0; i < xs.Length; i++) ys[i] = f(xs[i]);
        return Graph.Record(y, new MapNode(x, name, derivative));
    }

    private sealed class MapNode(Tensor x, string name, Func<float, float, float> derivative) : Node(x)
    {
        public override string Name => name;

        public override void Backward(Tensor output, ReadOnlySpan<float> dy)
        {
            var dx = new float[dy.Length];
            var xs = x.Data;
            var ys = output.Data;
            for (int i = 0; i < dx.Length; i++) dx[i] = dy[i] * derivative(xs[i], ys[i]);
            Graph.Accumulate(x, dx);
        }
    }
}
