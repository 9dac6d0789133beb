using Microsoft.ML.OnnxRuntime;
using Nabla.Autograd;
using Nabla.IO;
using Nabla.NN;
using Nabla.Tensors;
using Tensor = Nabla.Tensors.Tensor;
using Nabla.Tests.Testing;

namespace Nabla.Tests.IO;

/// <summary>Exported models run in ONNX Runtime and give Nabla's logits.</summary>
public class OnnxExportTests
{
    [Theory]
    [InlineData(ActivationKind.Sigmoid, new[] { 32 }, false)]
    [InlineData(ActivationKind.Relu, new[] { 24, 16 }, false)]
    [InlineData(ActivationKind.Tanh, new[] { 8 }, true)]
    public void Export_OnnxRuntimeGivesNablasOutputs(ActivationKind act, int[] hidden, bool softmax)
    {
        using var dir = new TempDir();
        var model = new MlpArchitecture(784, hidden, act, 10, Dropout: 0.1f).Create(new Rng(4));
        model.Eval();
        string path = dir.File("m.onnx");
        OnnxExporter.Export(path, model, 784, softmax);

        var x = Tensor.Uniform(new Shape(5, 784), 0, 1, new Rng(9));
        var expected = model.Forward(x);
        if (softmax) expected = expected.Softmax(-1);

        using var session = new InferenceSession(path);
        var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x.ToArray(), new[] { 5, 784 });
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var actual = results.Single().AsEnumerable<float>().ToArray();
        Assert.Equal(softmax ? "probabilities" : "logits", results.Single().Name);
        Close.All(expected.ToArray(), actual, 1e-5, 1e-5);
    }
}
