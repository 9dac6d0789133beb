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
            // A regression model's outputs are the predicted values: a softmax over them would mean nothing.
            bool regression = InputSpec.Of(loaded, r.GetValue(model)!).Regression;
            if (regression && r.GetValue(softmax))
                throw new UsageException($"--softmax: {r.GetValue(model)} is a regression model (its outputs are values, not class scores); drop --softmax.");
            string output = regression ? "values" : r.GetValue(softmax) ? "probabilities" : "logits";
            OnnxExporter.Export(r.GetValue(onnx)!, loaded.Model, loaded.InputFeatures, r.GetValue(softmax), output);
            stdout.WriteLine($"Wrote {r.GetValue(onnx)} ({loaded.Plan}, input 'input' (batch, {loaded.InputFeatures}), output '{output}')");
            return 0;
        });
        return cmd;
    }
}
