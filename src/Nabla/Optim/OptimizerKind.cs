using Nabla.Tensors;

namespace Nabla.Optim;

/// <summary>The optimizers by name, for configuration files and the command line.</summary>
public enum OptimizerKind
{
    /// <summary><see cref="Sgd"/></summary>
    Sgd,
    /// <summary><see cref="Adam"/></summary>
    Adam,
    /// <summary><see cref="AdamW"/></summary>
    AdamW,
    /// <summary><see cref="RmsProp"/></summary>
    RmsProp,
    /// <summary><see cref="Adagrad"/></summary>
    Adagrad,
}

/// <summary>Creates an optimizer from its kind and the common hyper-parameters.</summary>
public static class OptimizerFactory
{
    /// <summary>The optimizer's name as PyTorch spells it: SGD, Adam, AdamW, RMSprop, Adagrad.</summary>
    public static string PyTorchName(OptimizerKind kind) => kind switch
    {
        OptimizerKind.Sgd => "SGD",
        OptimizerKind.RmsProp => "RMSprop",
        _ => kind.ToString(),
    };

    /// <summary>PyTorch's default learning rate for each optimizer.</summary>
    public static float DefaultLearningRate(OptimizerKind kind) =>
        kind is OptimizerKind.RmsProp or OptimizerKind.Adagrad ? 1e-2f : 1e-3f;

    /// <summary>
    /// The optimizer of <paramref name="kind"/> over <paramref name="parameters"/>; a null learning rate or weight
    /// decay takes PyTorch's default for that optimizer. Momentum applies to SGD and RMSprop.
    /// </summary>
    public static Optimizer Create(OptimizerKind kind, IReadOnlyList<Tensor> parameters, float? learningRate = null,
        float momentum = 0f, float? weightDecay = null, float l1 = 0f)
    {
        float lr = learningRate ?? DefaultLearningRate(kind);
        float wd = weightDecay ?? (kind == OptimizerKind.AdamW ? 1e-2f : 0f);
        return kind switch
        {
            OptimizerKind.Sgd => new Sgd(parameters, new SgdOptions(lr, Momentum: momentum, WeightDecay: wd)) { L1Penalty = l1 },
            OptimizerKind.Adam => new Adam(parameters, new AdamOptions(lr, WeightDecay: wd)) { L1Penalty = l1 },
            OptimizerKind.AdamW => new AdamW(parameters, new AdamOptions(lr, WeightDecay: wd)) { L1Penalty = l1 },
            OptimizerKind.RmsProp => new RmsProp(parameters, new RmsPropOptions(lr, Momentum: momentum, WeightDecay: wd)) { L1Penalty = l1 },
            _ => new Adagrad(parameters, new AdagradOptions(lr, WeightDecay: wd)) { L1Penalty = l1 },
        };
    }
}
