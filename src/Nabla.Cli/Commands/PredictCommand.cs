using System.CommandLine;
using System.Text.Json.Nodes;
using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.Cli.Commands;

/// <summary><c>nabla predict MODEL IMAGE…</c>: the top-3 classes, with probabilities, of each PNG or JPEG image.</summary>
internal static class PredictCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new Argument<string>("MODEL") { Description = "A model saved with --save" };
        var images = new Argument<string[]>("IMAGE") { Description = "PNG or JPEG files", Arity = ArgumentArity.OneOrMore };
        var invert = new Option<string>("--invert") { Description = "Invert gray levels: auto (if the border is light), yes, no", DefaultValueFactory = _ => "auto" }
            .AcceptOnlyFromAmong("auto", "yes", "no");
        var json = CommonOptions.Json();
        var activation = CommonOptions.ModelActivation();
        var cmd = new Command("predict", "Classify images (converted to 28×28 grayscale like Fashion-MNIST)") { model, images, invert, activation, json };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(images)!, r.GetValue(invert)!, r.GetValue(activation), r.GetValue(json), stdout));
        return cmd;
    }

    private static int Run(string path, string[] images, string invert, string? activation, bool json, TextWriter o)
    {
        var loaded = CommonOptions.LoadModel(path, activation);
        int side = (int)Math.Round(Math.Sqrt(loaded.InputFeatures));
        if (side * side != loaded.InputFeatures)
            throw new UsageException($"{path} takes {loaded.InputFeatures} features, not a square image.");
        loaded.Model.Eval();
        var results = new JsonArray();
        foreach (var image in images)
        {
            var x = Imaging.LoadGrayscale(image, side, side, invert switch { "yes" => true, "no" => false, _ => null });
            float[] probabilities;
            using (GradMode.NoGrad())
                probabilities = loaded.Model.Forward(Tensor.FromArray(x, 1, side * side)).Softmax(-1).ToArray();
            var top = probabilities.Select((p, i) => (p, i)).OrderByDescending(t => t.p).Take(3).ToArray();
            if (json)
            {
                results.Add(new JsonObject
                {
                    ["image"] = image,
                    ["top"] = new JsonArray([.. top.Select(t => (JsonNode)new JsonObject
                    {
                        ["class"] = loaded.ClassNames[t.i], ["index"] = t.i, ["probability"] = Math.Round(t.p, 5),
                    })]),
                });
                continue;
            }
            o.WriteLine($"{image}: " + string.Join(", ", top.Select(t => $"{loaded.ClassNames[t.i]} {CommonOptions.F(100 * t.p, 1)} %")));
        }
        if (json) o.WriteLine(new JsonObject { ["predictions"] = results }.ToJsonString());
        return 0;
    }
}
