using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Optim;

/// <summary>
/// Golden runs: each optimizer stepped three times on θ₀ = (0.5, −1, 2, 0) with fixed gradients, against the
/// values PyTorch 1.13's torch.optim gives for the same run. The script that produced them is
/// golden_optimizers.py beside this file; rerun it to re-pin.
/// </summary>
public class OptimizerTests
{
    private static readonly float[][] Grads = [[0.1f, -0.2f, 0.3f, 0.05f], [-0.3f, 0.1f, 0.2f, -0.4f], [0.2f, 0.2f, -0.1f, 0f]];

    private static float[] Run(Func<Tensor[], Optimizer> make)
    {
        var p = Tensor.FromArray([0.5f, -1f, 2f, 0f]).RequireGrad();
        var opt = make([p]);
        foreach (var g in Grads)
        {
            p.Grad = Tensor.FromArray(g);
            opt.Step();
        }
        return p.ToArray();
    }

    public static IEnumerable<object[]> Golden() =>
    [
        ["sgd", new float[] { 0.50000006f, -1.00999999f, 1.96000004f, 0.0350000001f }],
        ["sgd_momentum", new float[] { 0.50355202f, -0.975644469f, 1.88298726f, 0.0548346937f }],
        ["sgd_nesterov", new float[] { 0.50891f, -0.996320009f, 1.86162996f, 0.0912050009f }],
        ["adam", new float[] { 0.447540224f, -0.900635958f, 1.74777567f, 0.0161896199f }],
        ["adam_amsgrad_wd", new float[] { 0.409385204f, -0.812167883f, 1.71775901f, 0.0170961618f }],
        ["adamw", new float[] { 0.446192205f, -0.897865534f, 1.74207878f, 0.0163239874f }],
        ["rmsprop", new float[] { 0.441252589f, -1.01190233f, 1.87127483f, -0.000764414668f }],
        ["rmsprop_centered_momentum_wd", new float[] { 0.329886824f, -0.771217406f, 1.597332f, -0.0807952955f }],
        ["adagrad", new float[] { 0.441416055f, -1.01138806f, 1.87125611f, -0.000772215426f }],
        ["adagrad_decay_init_wd", new float[] { 0.48322767f, -0.972571611f, 1.89671385f, 0.0372966342f }],
    ];

    private static Optimizer Make(string name, Tensor[] p) => name switch
    {
        "sgd" => new Sgd(p, new SgdOptions(0.1f)),
        "sgd_momentum" => new Sgd(p, new SgdOptions(0.1f, Momentum: 0.9f, Dampening: 0.1f, WeightDecay: 0.01f)),
        "sgd_nesterov" => new Sgd(p, new SgdOptions(0.1f, Momentum: 0.9f, Nesterov: true)),
        "adam" => new Adam(p, new AdamOptions(0.1f)),
        "adam_amsgrad_wd" => new Adam(p, new AdamOptions(0.1f, WeightDecay: 0.1f, Amsgrad: true)),
        "adamw" => new AdamW(p, new AdamOptions(0.1f, WeightDecay: 0.01f)),
        "rmsprop" => new RmsProp(p, new RmsPropOptions(0.01f)),
        "rmsprop_centered_momentum_wd" => new RmsProp(p, new RmsPropOptions(0.01f, Centered: true, Momentum: 0.9f, WeightDecay: 0.1f)),
        "adagrad" => new Adagrad(p, new AdagradOptions(0.1f)),
        _ => new Adagrad(p, new AdagradOptions(0.1f, LrDecay: 0.1f, InitialAccumulatorValue: 0.5f, WeightDecay: 0.1f)),
    };

    [Theory]
    [MemberData(nameof(Golden))]
    public void Step_ThreeSteps_MatchesPyTorch(string name, float[] expected) =>
        Close.All(expected, Run(p => Make(name, p)), atol: 2e-6, rtol: 2e-6, what: name);

    [Fact]
    public void Defaults_AreTorchDefaults()
    {
        Assert.Equal(new AdamOptions(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false), new AdamOptions());
        Assert.Equal(1e-2f, new RmsPropOptions().LearningRate);
        Assert.Equal(0.99f, new RmsPropOptions().Alpha);
        Assert.Equal(1e-10f, new AdagradOptions().Eps);
        var w = Tensor.Zeros(1).RequireGrad();
        Assert.Equal(1e-2f, new AdamW([w]).Options.WeightDecay);
    }

    [Fact]
    public void L1Penalty_AddsLambdaSignTheta()
    {
        // θ ← θ − γ(g + λ·sign θ) with γ = 0.1, λ = 0.5: by hand, (0.5, −1, 2, 0) with g = (0.1, −0.2, 0.3, 0.05)
        // gives (0.5 − 0.1·0.6, −1 − 0.1·(−0.7), 2 − 0.1·0.8, 0 − 0.1·0.05) = (0.44, −0.93, 1.92, −0.005).
        var p = Tensor.FromArray([0.5f, -1f, 2f, 0f]).RequireGrad();
        var opt = new Sgd([p], new SgdOptions(0.1f)) { L1Penalty = 0.5f };
        p.Grad = Tensor.FromArray(Grads[0]);
        opt.Step();
        Close.All([0.44f, -0.93f, 1.92f, -0.005f], p.Data, 1e-6, 1e-6);
        Assert.Equal(Grads[0], p.Grad.ToArray()); // the gradient itself is left alone
    }

    [Fact]
    public void Step_LargeParameterInParallel_EqualsSerial()
    {
        float[] Once(int threads)
        {
            var p = Tensor.Uniform(new Shape(100_000), -1, 1, new Rng(1)).RequireGrad();
            p.Grad = Tensor.Uniform(new Shape(100_000), -1, 1, new Rng(2));
            var opt = new Adam([p]) { Pool = new Compute.WorkerPool(threads) };
            opt.Step(); opt.Step();
            return p.ToArray();
        }
        Assert.Equal(Once(1), Once(2));
    }

    [Fact]
    public void ClipGradNorm_ScalesToMaxNorm()
    {
        var a = Tensor.Zeros(2).RequireGrad();
        var b = Tensor.Zeros(1).RequireGrad();
        a.Grad = Tensor.FromArray([3f, 0f]);
        b.Grad = Tensor.FromArray([4f]);
        float norm = GradClip.ClipGradNorm([a, b], 1f);
        Assert.Equal(5f, norm, 5);
        Assert.Equal(0.6f, a.Grad.Data[0], 4);
        Assert.Equal(0.8f, b.Grad.Data[0], 4);
        Assert.Equal(1f, GradClip.ClipGradNorm([a, b], 10f), 4); // under the limit: unchanged
        Assert.Equal(0.6f, a.Grad.Data[0], 4);
    }

    [Fact]
    public void Schedulers_FollowTheirFormulas()
    {
        var w = Tensor.Zeros(1).RequireGrad();
        var opt = new Sgd([w], new SgdOptions(1f));
        var step = new StepLR(opt, stepSize: 2, gamma: 0.5f);
        var rates = new List<float>();
        for (int e = 0; e < 5; e++) { step.Step(); rates.Add(opt.LearningRate); }
        Assert.Equal([1f, 0.5f, 0.5f, 0.25f, 0.25f], rates);

        var opt2 = new Sgd([w], new SgdOptions(1f));
        var cos = new CosineAnnealingLR(opt2, tMax: 4, etaMin: 0.2f);
        cos.Step();
        Assert.Equal(0.2f + 0.8f * (1 + MathF.Cos(MathF.PI / 4)) / 2, opt2.LearningRate, 6);
        cos.Step(); cos.Step(); cos.Step();
        Assert.Equal(0.2f, opt2.LearningRate, 6);
    }

    [Theory]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    public void Constructor_BadLearningRate_Throws(float lr)
    {
        var w = Tensor.Zeros(1).RequireGrad();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([w], new SgdOptions(lr)));
        Assert.Contains("learning rate", e.Message);
    }

    [Fact]
    public void Constructor_NesterovWithoutMomentum_Throws() =>
        Assert.Throws<ArgumentException>(() => new Sgd([Tensor.Zeros(1)], new SgdOptions(Nesterov: true)));
}

public class OptimizerVectorTests
{
    [Theory]
    [InlineData("adam")]
    [InlineData("adam_amsgrad_wd")]
    [InlineData("adamw")]
    [InlineData("sgd")]
    [InlineData("sgd_momentum")]
    [InlineData("rmsprop")]
    [InlineData("rmsprop_centered_momentum_wd")]
    [InlineData("adagrad_wd")]
    public void Update_VectorBodyAndScalarTail_AgreeBitForBit(string config)
    {
        // One 37-element parameter (four vectors and a tail) against 37 one-element parameters (all tail).
        var theta = Nabla.Tests.Testing.Close.Random(37, 1);
        var grads = new[] { Nabla.Tests.Testing.Close.Random(37, 2), Nabla.Tests.Testing.Close.Random(37, 3) };
        var whole = Tensor.FromArray(theta).RequireGrad();
        var parts = theta.Select(v => Tensor.FromArray([v]).RequireGrad()).ToArray();
        Optimizer Make(Tensor[] p) => config switch
        {
            "adam" => new Adam(p),
            "adam_amsgrad_wd" => new Adam(p, new AdamOptions(0.01f, WeightDecay: 0.1f, Amsgrad: true)),
            "adamw" => new AdamW(p),
            "sgd" => new Sgd(p, new SgdOptions(0.1f)),
            "rmsprop" => new RmsProp(p),
            "rmsprop_centered_momentum_wd" => new RmsProp(p, new RmsPropOptions(0.01f, Centered: true, Momentum: 0.9f, WeightDecay: 0.1f)),
            "adagrad_wd" => new Adagrad(p, new AdagradOptions(0.1f, LrDecay: 0.1f, WeightDecay: 0.1f)),
            _ => new Sgd(p, new SgdOptions(0.1f, Momentum: 0.9f)),
        };
        var a = Make([whole]);
        var b = Make(parts);
        foreach (var g in grads)
        {
            whole.Grad = Tensor.FromArray(g);
            for (int i = 0; i < 37; i++) parts[i].Grad = Tensor.FromArray([g[i]]);
            a.Step();
            b.Step();
        }
        Assert.Equal(parts.Select(p => p.Data[0]), whole.ToArray());
    }
}
