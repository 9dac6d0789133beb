using Nabla.Autograd;
using Nabla.Data;
using Nabla.IO;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Tests.Testing;
using Nabla.Training;

namespace Nabla.Tests.Training;

/// <summary>
/// The library side of tables: the preprocessing layer and the rescaling layer (their arithmetic, gradients, plans
/// and files), weighted losses against independent formulas and finite differences, the plateau schedule against
/// PyTorch's rules, the held-out split, the relative divergence guard, and misuse refused before any step.
/// </summary>
public class TablePipelineTests
{
    private static TablePreprocessor Preprocessor() => new(
    [
        new TableColumn("x", ColumnKind.Numeric) { Mean = 2f, Scale = 0.5f, Fill = 2f },
        new TableColumn("colour", ColumnKind.Categorical) { Categories = ["blue", "green", "red"], Fill = 2f },
        new TableColumn("y", ColumnKind.Numeric) { Mean = -1f, Scale = 2f }, // gaps not filled
    ]);

    [Fact]
    public void Preprocessor_FillsGaps_Standardizes_OneHots_AndZerosAnUnseenCategory()
    {
        var pre = Preprocessor();
        Assert.Equal(5, pre.OutputWidth);
        float[] raw = [4f, 0f, 0f, float.NaN, float.NaN, 1f, 6f, -1f, float.NaN];
        var y = new float[15];
        pre.Apply(raw, y, 3);
        Assert.Equal([1f, 1f, 0f, 0f, 2f], y[..5]);                    // (4 − 2)·0.5; blue
        Assert.Equal([0f, 0f, 0f, 1f, 4f], y[5..10]);                  // gap → mean 2 → 0; gap → red
        Assert.Equal(2f, y[10]);                                        // (6 − 2)·0.5
        Assert.Equal([0f, 0f, 0f], y[11..14]);                          // −1: a colour the training file did not have
        Assert.True(float.IsNaN(y[14]));                                // a gap where gaps are not filled stays NaN
        Assert.Equal([4f, 1f, float.NaN], pre.Encode(["4", "green", "NA"]));
        Assert.Equal(-1f, pre.Encode(["4", "teal", "1"])[1]);
        Assert.Contains("colour", Assert.Throws<FormatException>(() => Preprocessor().Encode(["4", "red", "x"])).Message.Replace("'y'", "colour"));
    }

    [Fact]
    public void Fit_MatchesStandardScaler_ImputesWithTheMeanAndTheMostFrequentCategory()
    {
        TableColumn[] columns = [new("x", ColumnKind.Numeric), new("c", ColumnKind.Categorical) { Categories = ["a", "b"] }];
        float[] raw = [1f, 0f, 3f, 1f, float.NaN, 1f, 5f, float.NaN];
        var pre = TablePreprocessor.Fit(columns, raw, FeatureScaling.Standardize, impute: true);
        Assert.Equal(3f, pre.Columns[0].Mean);                          // the mean of 1, 3, 5 (the gap left out)
        Assert.Equal((float)(1 / Math.Sqrt(8.0 / 3)), pre.Columns[0].Scale, 6); // population std
        Assert.Equal(3f, pre.Columns[0].Fill);
        Assert.Equal(1f, pre.Columns[1].Fill);                          // 'b' twice, 'a' once
        var none = TablePreprocessor.Fit(columns, raw, FeatureScaling.None, impute: false);
        Assert.False(none.Columns[0].Imputes);
        Assert.Equal((0f, 1f), (none.Columns[0].Mean, none.Columns[0].Scale));
        var again = TablePreprocessor.FromJson(pre.ToJson());
        Assert.Equal(pre.Columns, again.Columns, (a, b) => a.Name == b.Name && a.Mean == b.Mean && a.Scale == b.Scale && a.Fill == b.Fill && a.Categories.SequenceEqual(b.Categories));
    }

    [Fact]
    public void ATableModel_SavesAndLoads_WithItsPreprocessingAndRescaling_TheSameFunction()
    {
        using var dir = new TempDir();
        var rng = new Rng(3);
        var model = new Sequential(new ColumnTransformer(Preprocessor()), new Linear(5, 4, rng), new Relu(), new Linear(4, 2, rng),
            new Rescaling([10f, 0.5f], [200f, -3f]));
        ModelFile.Save(dir.File("m.safetensors"), model, ["price", "area"]);
        var loaded = ModelFile.Load(dir.File("m.safetensors"));
        Assert.Equal(3, loaded.InputFeatures);
        Assert.Equal("3 columns → 5-4-2 relu, rescaled", loaded.Plan.ToString());
        var x = Tensor.FromArray([4f, 0f, 0f, float.NaN, 2f, 1f], 2, 3);
        Assert.Equal(model.PredictValues(x).ToArray(), loaded.Model.PredictValues(x).ToArray());
        // The explicit engine runs the same function as autograd's Forward.
        var engine = new BatchEngine(model, 3, 2);
        Assert.Equal(model.PredictValues(x).ToArray(), engine.Forward(x.ToArray(), 2).ToArray());
    }

    [Fact]
    public void Rescaling_Gradient_MatchesFiniteDifferences_AndTheBatchForm()
    {
        var layer = new Rescaling([3f, -0.5f], [1f, 2f]);
        GradCheck.Check(t => layer.Forward(t[0]), [Tensor.Uniform(new Shape(3, 2), -1f, 1f, new Rng(1))]);
        var x = Tensor.Uniform(new Shape(3, 2), -1f, 1f, new Rng(2)).RequireGrad();
        var dy = Tensor.Uniform(new Shape(3, 2), -1f, 1f, new Rng(3));
        layer.Forward(x).Mul(dy).Sum().Backward();
        var dx = new float[6];
        layer.BackwardBatch(x.ToArray(), [], dy.ToArray(), dx, 3, 2);
        Close.All(x.Grad!.ToArray(), dx);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.1f)]
    public void WeightedCrossEntropy_MatchesPyTorchsFormula_AndFiniteDifferences(float eps)
    {
        // PyTorch: loss = Σ_r [(1−ε)·w_y·(lse − t_y) + ε/C·Σ_c w_c·(lse − t_c)] / Σ_r w_{y_r}, computed here in double.
        float[] w = [0.5f, 2f, 1f];
        int[] y = [1, 0, 2, 1];
        var logits = Tensor.Uniform(new Shape(4, 3), -2f, 2f, new Rng(7));
        var loss = new CrossEntropyLoss(eps, w);
        double total = 0, norm = 0;
        for (int r = 0; r < 4; r++)
        {
            var t = logits.ToArray()[(r * 3)..(r * 3 + 3)].Select(v => (double)v).ToArray();
            double lse = Math.Log(t.Sum(Math.Exp));
            total += (1 - eps) * w[y[r]] * (lse - t[y[r]]) + eps / 3 * Enumerable.Range(0, 3).Sum(c => w[c] * (lse - t[c]));
            norm += w[y[r]];
        }
        Assert.Equal(total / norm, loss.Forward(logits, y).Item(), 5);
        Assert.Equal(total / norm, loss.ForwardBackward(logits.ToArray(), y, new float[12], 4, 3), 5);
        GradCheck.Check(t => loss.Forward(t[0], y), [logits]);
        // No weights: the unweighted path, bit for bit.
        Assert.Equal(new CrossEntropyLoss(eps).Forward(logits, y).Item(), new CrossEntropyLoss(eps, [1f, 1f, 1f]).Forward(logits, y).Item(), 6);
    }

    [Fact]
    public void WeightedMse_IsTheErrorInStandardDeviations_WithItsGradient()
    {
        var loss = new MseLoss([1f / 4f, 1f / 100f]); // targets with std 2 and 10
        var x = Tensor.Uniform(new Shape(3, 2), -5f, 5f, new Rng(4));
        var t = Tensor.Uniform(new Shape(3, 2), -5f, 5f, new Rng(5));
        double expected = 0;
        for (int i = 0; i < 6; i++) expected += Math.Pow((x.ToArray()[i] - t.ToArray()[i]) / (i % 2 == 0 ? 2.0 : 10.0), 2) / 6;
        Assert.Equal(expected, loss.Forward(x, t).Item(), 5);
        var d = new float[6];
        Assert.Equal(expected, loss.ForwardBackward(x.ToArray(), t.ToArray(), d, 3, 2), 5);
        GradCheck.Check(a => loss.Forward(a[0], t), [x]);
        var auto = Tensor.FromArray(x.ToArray(), 3, 2).RequireGrad();
        loss.Forward(auto, t).Backward();
        Close.All(auto.Grad!.ToArray(), d);
    }

    [Fact]
    public void BalancedWeights_AreScikitLearns()
    {
        // n / (C · n_c): 6 samples, 3 classes, counts 3, 2, 1.
        Assert.Equal([6f / 9, 6f / 6, 6f / 3], CrossEntropyLoss.BalancedWeights([0, 0, 0, 1, 1, 2], 3));
    }

    [Fact]
    public void ReduceLROnPlateau_FollowsPyTorch()
    {
        // torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0.1, cooldown=1) on these
        // losses: better means below best·0.9; a reduction after the third bad epoch in a row, then one epoch of cooldown.
        var p = Tensor.Zeros(1).RequireGrad();
        var opt = new Sgd([p], new SgdOptions(1f));
        var plateau = new ReduceLROnPlateau(opt, factor: 0.5f, patience: 2, threshold: 0.1f, cooldown: 1);
        double[] losses = [10, 9.5, 9.2, 9.1, 8, 8, 8, 8, 8, 8];
        float[] expected = [1f, 1f, 1f, 0.5f, 0.5f, 0.5f, 0.5f, 0.25f, 0.25f, 0.25f];
        for (int e = 0; e < losses.Length; e++)
        {
            plateau.Step(losses[e]);
            Assert.True(expected[e] == opt.LearningRate, $"epoch {e + 1}: lr {opt.LearningRate}, expected {expected[e]}");
        }
        Assert.Equal(2, plateau.Reductions);
    }

    [Fact]
    public void ConvergenceStopping_FollowsScikitLearnsRule()
    {
        // sklearn's _update_no_improvement_count: a loss not below best − tol counts; more than n_iter_no_change stop.
        var stop = new ConvergenceStopping(tolerance: 0.1, patience: 2);
        double[] losses = [1.0, 0.95, 0.92, 0.91, 0.5, 0.45, 0.44];
        int stoppedAt = 0;
        for (int e = 0; e < losses.Length && stoppedAt == 0; e++)
        {
            bool halt = false;
            stop.OnEpochEnd(null!, new EpochMetrics(e + 1, losses[e], 0, 0, 0, 0, null), ref halt);
            if (halt) stoppedAt = e + 1;
        }
        // 0.95, 0.92 and 0.91 are each within 0.1 of the best: the third of them (epoch 4) is one more than 2.
        Assert.Equal(4, stoppedAt);
        Assert.Equal(4, stop.StoppedEpoch);
        Assert.Equal(0.91, stop.BestLoss);
    }

    [Theory]
    [InlineData(LearningRateSchedule.Plateau)]
    [InlineData(LearningRateSchedule.Cosine)]
    public void AResumedRun_ContinuesItsScheduleAndConvergenceCheck_BitForBit(LearningRateSchedule schedule)
    {
        using var dir = new TempDir();
        var rng = new Rng(8);
        var x = new float[120 * 3];
        var y = new int[120];
        for (int i = 0; i < 120; i++) { y[i] = i % 2; for (int j = 0; j < 3; j++) x[i * 3 + j] = (float)rng.NextGaussian() + y[i]; }
        var data = new TensorDataset(x, y, 3, ["a", "b"]);
        var config = new TrainConfig { Hidden = [4], Epochs = 8, BatchSize = 16, Schedule = schedule, SchedulePatience = 0, ConvergenceTolerance = 1e-3, LearningRate = 0.5f };
        var straight = TrainingRun.Create(config, data);
        straight.CheckpointPath = dir.File("a.safetensors");
        // Callbacks run before the checkpoint: at epoch 5's end the file on disk still holds epoch 4's.
        straight.Fit([Callback.OnEpochEnd(m => { if (m.Epoch == 5) File.Copy(dir.File("a.safetensors"), dir.File("epoch4.safetensors")); })]);
        var resumed = TrainingRun.Create(config, data);
        resumed.Resume(dir.File("epoch4.safetensors"));
        Assert.Equal(4, resumed.StartEpoch);
        resumed.Fit();
        Assert.Equal(straight.Trainer.Optimizer.LearningRate, resumed.Trainer.Optimizer.LearningRate);
        if (straight.Scheduler is ReduceLROnPlateau plateau)
        {
            Assert.True(plateau.Reductions >= 2, $"the run should reduce its rate before and after epoch 4 ({plateau.Reductions})");
            Assert.Equal(plateau.Reductions, ((ReduceLROnPlateau)resumed.Scheduler!).Reductions);
        }
        Assert.Equal(straight.Convergence!.StoppedEpoch, resumed.Convergence!.StoppedEpoch);
        Assert.Equal(straight.Model.Parameters().SelectMany(p => p.ToArray()), resumed.Model.Parameters().SelectMany(p => p.ToArray()));
    }

    [Fact]
    public void HoldOut_IsStratified_Seeded_AndItsHashTellsSplitsApart()
    {
        int[] labels = [.. Enumerable.Range(0, 100).Select(i => i < 80 ? 0 : i < 95 ? 1 : 2)];
        var a = HoldOut.Split(100, labels, 0.2f, new Rng(1));
        var b = HoldOut.Split(100, labels, 0.2f, new Rng(1));
        var c = HoldOut.Split(100, labels, 0.2f, new Rng(2));
        Assert.Equal(a.Test, b.Test);
        Assert.Equal(a.Hash, b.Hash);
        Assert.NotEqual(a.Hash, c.Hash);
        Assert.Equal([16, 3, 1], [.. Enumerable.Range(0, 3).Select(k => a.Test.Count(i => labels[i] == k))]);
        Assert.Empty(a.Train.Intersect(a.Test));
        Assert.Equal(100, a.Train.Length + a.Test.Length);
    }

    [Fact]
    public void Divergence_IsMeasuredAgainstTheFirstBatch_NotOneNumber()
    {
        // Targets near 10⁴: an MSE of 10⁸ at the start is no divergence; the same run with a huge rate is.
        var rng = new Rng(5);
        var x = new float[64 * 2];
        var y = new float[64];
        for (int i = 0; i < 64; i++) { x[2 * i] = rng.NextSingle(); x[2 * i + 1] = rng.NextSingle(); y[i] = 10_000 + 500 * x[2 * i]; }
        var data = new RegressionDataset(x, y, 2, ["t"]);
        Trainer Make(float lr)
        {
            var m = new Sequential(new Linear(2, 8, new Rng(1)), new Relu(), new Linear(8, 1, new Rng(2)));
            return new Trainer(m, new MseLoss(), new Sgd(m.Parameters(), new SgdOptions(lr)), 2, 16);
        }
        var calm = Make(1e-9f);
        calm.TrainingLoop(new DataLoader(data, 16), epochs: 2);
        Assert.True(calm.ReferenceLoss > 1e7);
        var wild = Make(10f);
        Assert.Throws<TrainingDivergedException>(() => wild.TrainingLoop(new DataLoader(data, 16), epochs: 3));
        var fixedBound = Make(1e-9f);
        fixedBound.DivergenceThreshold = 1e4; // an absolute bound, if one is wanted
        Assert.Throws<TrainingDivergedException>(() => fixedBound.TrainingLoop(new DataLoader(data, 16), epochs: 1));
    }

    [Fact]
    public void AModelOfAnotherInputWidth_IsRefusedBeforeTheFirstStep_NamingBoth()
    {
        var images = new TensorDataset(new float[10 * 784], new int[10], 784, [.. Enumerable.Range(0, 10).Select(i => i.ToString())]);
        var model = new Sequential(new Linear(100, 10, new Rng(1)));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters()));
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(new DataLoader(images, 5), epochs: 1));
        Assert.Contains("784", e.Message);
        Assert.Contains("100", e.Message);
        Assert.Equal(0, trainer.StepCount);
        Assert.Throws<ArgumentException>(() => trainer.Test(new DataLoader(images, 5)));
        Assert.Throws<ArgumentException>(() => new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters()), inputFeatures: 784, maxBatch: 5));
        Assert.Contains("784", Assert.Throws<ArgumentException>(() => trainer.Step(new float[5 * 784], new int[5], 5)).Message);
        // Fewer outputs than classes: refused up front too.
        var three = new Sequential(new Linear(784, 3, new Rng(1)));
        Assert.Contains("10 classes", Assert.Throws<ArgumentException>(() =>
            new Trainer(three, new CrossEntropyLoss(), new Adam(three.Parameters())).Fit(new DataLoader(images, 5), epochs: 1)).Message);
    }

    [Fact]
    public void OtherMisuse_IsRefused_NotTrainedThrough()
    {
        var data = new TensorDataset(new float[8 * 4], new int[8], 4, ["a", "b"]);
        var model = new Sequential(new Linear(4, 2, new Rng(1)));
        var other = new Sequential(new Linear(4, 2, new Rng(2)));
        // An optimizer over another model's parameters would step them, never this model's.
        Assert.Contains("none of the model's parameters", Assert.Throws<ArgumentException>(() => new Trainer(model, new CrossEntropyLoss(), new Adam(other.Parameters()))).Message);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters()));
        Assert.Throws<ArgumentException>(() => trainer.Optimizer = new Sgd(other.Parameters(), new SgdOptions(0.1f)));
        trainer.Optimizer = new Sgd([model.Parameters()[0]], new SgdOptions(0.1f)); // a subset (fine-tuning) is fine
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.TrainEpoch(new DataLoader(data, 4), skipBatches: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(new DataLoader(data, 4), epochs: -1));
        var regression = new RegressionDataset(new float[4], new float[2], 2, ["t"]);
        Assert.Throws<ArgumentException>(() => RegressionReport.Evaluate(model, regression, ["t", "u"]));
        Assert.Throws<ArgumentException>(() => FeatureScaler.Fit(FeatureScaling.Standardize, new float[6], 3).Apply(new float[7]));
    }

    [Fact]
    public void LoadBatch_BeforeBeginPass_Throws_WithTheFix()
    {
        var data = new TensorDataset([1f, 2f, 3f, 4f], [0, 1, 0, 1], 1, ["a", "b"]);
        var loader = DataLoader.Shuffled(data, 2, new Rng(1));
        var e = Assert.Throws<InvalidOperationException>(() => loader.LoadBatch(0));
        Assert.Contains("BeginPass", e.Message);
        loader.BeginPass();
        Assert.Equal(2, loader.LoadBatch(0).Size);
    }

    [Fact]
    public void OlderFiles_RecordedScaling_BecomesTheModelsFirstLayer()
    {
        // A file written before models carried their preprocessing: Flatten first, the standardization beside it.
        using var dir = new TempDir();
        var rng = new Rng(2);
        var model = new Sequential(new Flatten(), new Linear(2, 3, rng), new Sigmoid(), new Linear(3, 2, rng));
        string input = "{\"kind\":\"table\",\"scaling\":{\"scale\":\"standardize\",\"mean\":[10,-5],\"scale_factor\":[0.5,2]},\"task\":\"classification\","
            + "\"csv\":{\"label_column\":null,\"header\":\"auto\",\"delimiter\":\",\"},\"features\":[\"a\",\"b\"],\"label\":null}";
        ModelFile.Save(dir.File("old.safetensors"), model, ["p", "q"], metadata: new Dictionary<string, string> { ["nabla.input"] = input });
        var loaded = ModelFile.Load(dir.File("old.safetensors"));
        Assert.IsType<ColumnTransformer>(loaded.Model.Layers[0]);
        var raw = Tensor.FromArray([12f, -4f], 1, 2);
        var scaled = Tensor.FromArray([(12f - 10f) * 0.5f, (-4f + 5f) * 2f], 1, 2);
        Assert.Equal(model.PredictProba(scaled).ToArray(), loaded.Model.PredictProba(raw).ToArray());
    }
}
