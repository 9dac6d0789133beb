using System.CommandLine;
using System.Text.Json.Nodes;
using Nabla.Autograd;
using Nabla.Backprop;
using Nabla.Tensors;

namespace Nabla.Cli.Commands;

/// <summary>
/// <c>nabla backprop</c>: the worked example of section 8.5.2 — x = (1, 0, −1), y = (0, 1),
/// W0 = [[0, 1, −1], [2, 0, 1]], W1 = [[−1, 0], [2, −1]] — computed forward, differentiated by autograd, by the
/// textbook's explicit Kronecker formulas, and by the backward loop of 8.5.3, printed in the textbook's layout.
/// </summary>
internal static class BackpropCommand
{
    public static Command Create(TextWriter stdout)
    {
        var json = CommonOptions.Json();
        var cmd = new Command("backprop", "Reproduce the textbook's worked backpropagation example (section 8.5.2)") { json };
        cmd.SetAction(r => Run(r.GetValue(json), stdout));
        return cmd;
    }

    private static int Run(bool json, TextWriter o)
    {
        var example = Dashboard.Explorer.WorkedExample; // the numbers, once: the dashboard's explorer starts from them too
        var x = Tensor.FromArray([.. example.X.Select(v => (float)v)]);
        var y = Tensor.FromArray([.. example.Y.Select(v => (float)v)]);
        var (w0, w1) = (Weight(example.Weights[0]), Weight(example.Weights[1]));

        // Forward, as the textbook writes it: z1 = σ(W0 z0), z2 = γ(W1 z1), f = −⟨log z2, y⟩.
        var z0 = x;
        var z1 = w0.MatMul(z0).Sigmoid();
        var z2 = w1.MatMul(z1).Softmax(0);
        var f = -z2.Log().Dot(y);
        string[] forward = [$"z0 = {z0}", $"z1 = {z1}", $"z2 = {z2}", $"f  = {f}"]; // printed as PyTorch prints them before backward
        f.Backward();

        // The explicit formulas of 8.5.2, with kron and diag as in the textbook's NUMERICAL CORNER.
        Tensor gradW0, gradW1;
        using (GradMode.NoGrad())
        {
            var e = (z2 - y).Unsqueeze(0);
            gradW0 = e.MatMul(w1).MatMul((z1 * (1f - z1)).Diag()).Kron(z0.Unsqueeze(0));
            gradW1 = e.Kron(z1.Unsqueeze(0));
        }

        // The backward loop of 8.5.3, Jacobian blocks materialized, in double.
        var literal = LiteralBackprop.Run(example.Weights, example.X, example.Y);

        if (json) o.WriteLine(Json(z1, z2, f, w0, w1, gradW0, gradW1, literal).ToJsonString());
        else Print(forward, w0, w1, gradW0, gradW1, literal, o);
        return 0;
    }

    /// <summary>The --json object: the forward values and the gradient by each of the three methods.</summary>
    private static JsonObject Json(Tensor z1, Tensor z2, Tensor f, Tensor w0, Tensor w1, Tensor gradW0, Tensor gradW1, BackpropResult literal) => new()
    {
        ["z1"] = Arr(z1.ToArray()),
        ["z2"] = Arr(z2.ToArray()),
        ["loss"] = f.Item(),
        ["grad_W0_autograd"] = Rows(w0.Grad!),
        ["grad_W1_autograd"] = Rows(w1.Grad!),
        ["grad_W0_explicit"] = Rows(gradW0.Reshape(2, 3)),
        ["grad_W1_explicit"] = Rows(gradW1.Reshape(2, 2)),
        ["grad_W0_backward_loop"] = Rows(literal.Gradients[0]),
        ["grad_W1_backward_loop"] = Rows(literal.Gradients[1]),
    };

    /// <summary>The worked example as the textbook prints it.</summary>
    private static void Print(string[] forward, Tensor w0, Tensor w1, Tensor gradW0, Tensor gradW1, BackpropResult literal, TextWriter o)
    {
        o.WriteLine("Section 8.5.2, a first example: x = (1, 0, -1), y = (0, 1)");
        o.WriteLine("W0 = [[0, 1, -1], [2, 0, 1]],  W1 = [[-1, 0], [2, -1]]");
        o.WriteLine();
        foreach (var line in forward) o.WriteLine(line);
        o.WriteLine();
        o.WriteLine("Gradient by automatic differentiation, f.Backward():");
        o.WriteLine($"W0.Grad = {w0.Grad}");
        o.WriteLine($"W1.Grad = {w1.Grad}");
        o.WriteLine();
        o.WriteLine("Gradient by the explicit formulas:");
        o.WriteLine($"grad_W0 = kron((z2 - y)ᵀ W1 diag(z1 ⊙ (1 - z1)), z0ᵀ) = {gradW0}");
        o.WriteLine($"grad_W1 = kron((z2 - y)ᵀ, z1ᵀ)                       = {gradW1}");
        o.WriteLine();
        o.WriteLine("Backward loop of 8.5.3 (p_i = A_iᵀ p_{i+1}, q_i = B_iᵀ p_{i+1}, blocks materialized, in double):");
        o.WriteLine($"q0 = {literal.Gradients[0]}");
        o.WriteLine($"q1 = {literal.Gradients[1]}");
        o.WriteLine();
        o.WriteLine("The results match with the AD output.");
    }

    private static Tensor Weight(DMatrix w) => Tensor.FromArray([.. w.Data.Select(v => (float)v)], w.Rows, w.Cols).RequireGrad();

    private static JsonArray Arr(IEnumerable<float> v) => [.. v.Select(x => (JsonNode)JsonValue.Create(x))];

    private static JsonArray Rows(Tensor t)
    {
        int cols = t.Shape[1];
        var d = t.ToArray();
        return [.. Enumerable.Range(0, t.Shape[0]).Select(i => (JsonNode)Arr(d.Skip(i * cols).Take(cols)))];
    }

    private static JsonArray Rows(DMatrix m) => [.. m.ToJagged().Select(r => (JsonNode)new JsonArray([.. r.Select(v => (JsonNode)JsonValue.Create(v))]))];
}
