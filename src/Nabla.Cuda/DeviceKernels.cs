using Nabla.Optim.Rules;
using ILGPU;
using ILGPU.Runtime;
using Nabla.Cuda.Kernels;

namespace Nabla.Cuda;

/// <summary>
/// The compiled kernels of one accelerator, each loaded (compiled to PTX, or to IL on the CPU accelerator) on
/// first use, so a run compiles only what it launches.
/// </summary>
internal sealed class DeviceKernels(Accelerator accelerator)
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int>? _map;
    private Action<Index1D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int>? _combine;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, LayerArgs>? _biasActivation;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, uint, float>? _activationBackward;
    private Action<Index1D, ArrayView<float>, int, int, ArrayView<float>>? _columnSum;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _softmaxRows;
    private Action<KernelConfig, ArrayView<float>, int, ArrayView<float>>? _sum;
    private Action<KernelConfig, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int, int, int, int, int>? _tiledGemm;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, LayerArgs>? _layerForward;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LayerArgs, LossArgs, ArrayView<double>>? _layerForwardLoss;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerArgs, StepConstants, int>? _layerWeights;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerArgs>? _layerInput;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, ArrayView<float>, LossArgs, ArrayView<double>>? _softmaxCrossEntropy;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, int, int, ArrayView<float>>? _gather;
    private Action<Index1D, ArrayView<byte>, ArrayView<float>, long, int, float, float, int>? _fromBytes;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, StepConstants>? _update;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, float>? _clip;
    private Action<Index1D, ArrayView<float>, ArrayView<float>>? _square;

    public Accelerator Accelerator => accelerator;

    /// <summary>Threads of the one group that <see cref="Sum"/> runs (a power of two, at most 256).</summary>
    public int SumGroupSize { get; } = Math.Min(256, 1 << (int)Math.Log2(Math.Max(1, accelerator.MaxNumThreadsPerGroup)));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int> Map =>
        _map ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.Map);

    public Action<Index1D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int> Combine =>
        _combine ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int>(ElementwiseKernels.Combine);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, LayerArgs> BiasActivation =>
        _biasActivation ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, LayerArgs>(ElementwiseKernels.BiasActivation);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, uint, float> ActivationBackward =>
        _activationBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, uint, float>(ElementwiseKernels.ActivationBackward);

    public Action<Index1D, ArrayView<float>, int, int, ArrayView<float>> ColumnSum =>
        _columnSum ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, ArrayView<float>>(ElementwiseKernels.ColumnSum);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> SoftmaxRows =>
        _softmaxRows ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ElementwiseKernels.SoftmaxRows);

    public Action<KernelConfig, ArrayView<float>, int, ArrayView<float>> Sum =>
        _sum ??= accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<float>>(ElementwiseKernels.Sum);

    public Action<KernelConfig, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int, int, int, int, int> TiledGemm =>
        _tiledGemm ??= accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int, int, int, int, int>(GemmKernels.Tiled);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, LayerArgs> LayerForward =>
        _layerForward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, LayerArgs>(LayerKernels.Forward);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LayerArgs, LossArgs, ArrayView<double>> LayerForwardLoss =>
        _layerForwardLoss ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LayerArgs, LossArgs, ArrayView<double>>(LayerKernels.ForwardLoss);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerArgs, StepConstants, int> LayerWeights =>
        _layerWeights ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerArgs, StepConstants, int>(LayerKernels.Weights);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerArgs> LayerInput =>
        _layerInput ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerArgs>(LayerKernels.Input);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, ArrayView<float>, LossArgs, ArrayView<double>> SoftmaxCrossEntropy =>
        _softmaxCrossEntropy ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, ArrayView<float>, LossArgs, ArrayView<double>>(LossKernels.SoftmaxCrossEntropy);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, int, int, ArrayView<float>> Gather =>
        _gather ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, int, int, ArrayView<float>>(DataKernels.Gather);

    public Action<Index1D, ArrayView<byte>, ArrayView<float>, long, int, float, float, int> FromBytes =>
        _fromBytes ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, ArrayView<float>, long, int, float, float, int>(DataKernels.FromBytes);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, StepConstants> Update =>
        _update ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, StepConstants>(OptimizerKernels.Update);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, float> Clip =>
        _clip ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(OptimizerKernels.ClipByNorm);

    public Action<Index1D, ArrayView<float>, ArrayView<float>> Square =>
        _square ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(OptimizerKernels.Square);
}
