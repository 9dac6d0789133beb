using System.CommandLine;
using Nabla.IO;

namespace Nabla.Cli.Commands;

/// <summary><c>nabla export MODEL --onnx out.onnx</c>: a saved model as ONNX, for ONNX Runtime and other engines.</summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new Argument<string>("MODEL") { Description = "A model saved with --save" };
        var onnx = new Option<string>("--onnx") { Description = "Where to write the ONNX file", Required = true };
        var softmax = new Option<bool>("--softmax") { Description = "End with Softmax: output probabilities instead of logits" };
        var activation = CommonOptions.ModelActivation();
        var cmd = new Command("export", "Export a saved model to ONNX (Flatten, Gemm, Sigmoid/Relu/Tanh, optional Softmax)") { model, onnx, softmax, activation };
        cmd.SetAction(r =>
        {
            OutputPaths.File(r.GetValue(onnx), "--onnx");
            var loaded = CommonOptions.LoadModel(r.GetValue(model)!, r.GetValue(activation));
            OnnxExporter.Export(r.GetValue(onnx)!, loaded.Model, loaded.InputFeatures, r.GetValue(softmax));
            stdout.WriteLine($"Wrote {r.GetValue(onnx)} ({loaded.Plan}, input 'input' (batch, {loaded.InputFeatures}), output '{(r.GetValue(softmax) ? "probabilities" : "logits")}')");
            return 0;
        });
        return cmd;
    }
}
