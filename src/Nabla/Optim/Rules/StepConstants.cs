using System.Globalization;

namespace Nabla.Optim.Rules;

/// <summary>Which update rule a <see cref="StepConstants"/> drives.</summary>
internal enum RuleKind
{
    /// <summary><see cref="Optim.Sgd"/>.</summary>
    Sgd = 0,
    /// <summary><see cref="Optim.Adam"/> and <see cref="Optim.AdamW"/>.</summary>
    Adam = 1,
    /// <summary><see cref="Optim.RmsProp"/>.</summary>
    RmsProp = 2,
    /// <summary><see cref="Optim.Adagrad"/>.</summary>
    Adagrad = 3,
}

/// <summary>
/// The scalars of one optimizer step, computed once per step on the host by the optimizer
/// (<see cref="Optimizer.Constants"/>) and used by every element's update on every device. They are computed as
/// PyTorch computes them: its hyper-parameters are Python floats (doubles), so scalar arithmetic such as the bias
/// corrections or <c>1 − β₂</c> happens in double and is rounded to float32 once, where the tensor op takes it.
/// </summary>
internal struct StepConstants
{
    /// <summary>Flag: SGD with Nesterov momentum.</summary>
    public const int Nesterov = 1;
    /// <summary>Flag: SGD's first step (the momentum buffer starts as the gradient).</summary>
    public const int FirstStep = 2;
    /// <summary>Flag: AdamW's decoupled weight decay.</summary>
    public const int Decoupled = 4;
    /// <summary>Flag: Adam's AMSGrad.</summary>
    public const int Amsgrad = 8;
    /// <summary>Flag: centered RMSprop.</summary>
    public const int Centered = 16;
    /// <summary>Flag: SGD or RMSprop with momentum.</summary>
    public const int HasMomentum = 32;

    /// <summary>The rule.</summary>
    public RuleKind Kind;
    /// <summary>The flag constants above.</summary>
    public int Flags;
    /// <summary>γ (Adagrad: the decayed rate γ/(1 + (t−1)η)).</summary>
    public float Lr;
    /// <summary>Adam: γ/(1 − β₁ᵗ).</summary>
    public float StepSize;
    /// <summary>Adam: √(1 − β₂ᵗ).</summary>
    public float Bc2Sqrt;
    /// <summary>Adam: β₁; RMSprop: α's role is in <see cref="Beta2"/>.</summary>
    public float Beta1;
    /// <summary>Adam: 1 − β₁, rounded once from double.</summary>
    public float OneMinusBeta1;
    /// <summary>Adam: β₂; RMSprop: α.</summary>
    public float Beta2;
    /// <summary>Adam: 1 − β₂; RMSprop: 1 − α; rounded once from double.</summary>
    public float OneMinusBeta2;
    /// <summary>ε.</summary>
    public float Eps;
    /// <summary>λ, the L2 weight decay added to the gradient (AdamW: decoupled, see <see cref="DecayFactor"/>).</summary>
    public float WeightDecay;
    /// <summary>AdamW: 1 − γλ.</summary>
    public float DecayFactor;
    /// <summary>μ (SGD, RMSprop).</summary>
    public float Momentum;
    /// <summary>SGD: 1 − τ (dampening).</summary>
    public float OneMinusDampening;
    /// <summary>λ₁: the L1 subgradient λ₁·sign(θ) is added to the gradient first.</summary>
    public float L1;

    /// <summary>
    /// The double a user meant by a float hyper-parameter: its shortest round-trip decimal (0.999f → 0.999), which is
    /// what PyTorch receives as a Python float. Float arithmetic on the float instead gives 1 − 0.999f = 0.000999987,
    /// PyTorch's 1 − 0.999 rounds to 0.001f: a relative error of 1.3e-5 in every second moment.
    /// </summary>
    public static double Decimal(float value) =>
        double.Parse(value.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
}
