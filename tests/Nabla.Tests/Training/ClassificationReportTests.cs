using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Tests.Training;

public class ClassificationReportTests
{
    [Fact]
    public void LossAndAccuracy_AreTheTestLoopsOnTheSameData()
    {
        var rng = new Rng(7);
        var x = new float[300 * 12];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextSingle() * 2 - 1;
        var y = Enumerable.Range(0, 300).Select(i => i % 4).ToArray();
        var data = new TensorDataset(x, y, 12, ["a", "b", "c", "d"]);
        var model = new MlpArchitecture(12, [16], ActivationKind.Tanh, 4).Create(new Rng(3));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters()), 12, 32);
        trainer.TrainingLoop(new DataLoader(data, 32), 3);

        var expected = trainer.Test(new DataLoader(data, 64)); // the one test loop, another batch size
        var report = ClassificationReport.Evaluate(model, data, batchSize: 100);
        Assert.Equal(expected.Loss, report.Loss, 5);
        Assert.Equal(expected.Accuracy, report.Accuracy, 10);
        Assert.True(report.Loss > 0);
    }
}
