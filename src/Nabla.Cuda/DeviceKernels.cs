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
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _biasActivation;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int>? _activationBackward;
    private Action<Index1D, ArrayView<float>, int, int, ArrayView<float>>? _columnSum;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _softmaxRows;
    private Action<KernelConfig, ArrayView<float>, int, ArrayView<float>>? _sum;
    private Action<KernelConfig, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int, int, int, int, int>? _tiledGemm;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>? _linearForward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>? _linearBackwardWeights;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>? _linearBackwardInput;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, int, ArrayView<float>, float, int, ArrayView<double>>? _softmaxCrossEntropy;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, ArrayView<float>, ArrayView<int>>? _gather;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper>? _sgd;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper>? _adam;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper>? _rmsProp;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper>? _adagrad;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, float>? _clip;
    private Action<Index1D, ArrayView<float>, ArrayView<float>>? _square;

    public Accelerator Accelerator => accelerator;

    /// <summary>Threads of the one group that <see cref="Sum"/> runs (a power of two, at most 256).</summary>
    public int SumGroupSize { get; } = Math.Min(256, 1 << (int)Math.Log2(Math.Max(1, accelerator.MaxNumThreadsPerGroup)));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int> Map =>
        _map ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.Map);

    public Action<Index1D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int> Combine =>
        _combine ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int>(ElementwiseKernels.Combine);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> BiasActivation =>
        _biasActivation ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ElementwiseKernels.BiasActivation);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int> ActivationBackward =>
        _activationBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ActivationBackward);

    public Action<Index1D, ArrayView<float>, int, int, ArrayView<float>> ColumnSum =>
        _columnSum ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, ArrayView<float>>(ElementwiseKernels.ColumnSum);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> SoftmaxRows =>
        _softmaxRows ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ElementwiseKernels.SoftmaxRows);

    public Action<KernelConfig, ArrayView<float>, int, ArrayView<float>> Sum =>
        _sum ??= accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<float>>(ElementwiseKernels.Sum);

    public Action<KernelConfig, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int, int, int, int, int> TiledGemm =>
        _tiledGemm ??= accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int, int, int, int, int>(GemmKernels.Tiled);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> LinearForward =>
        _linearForward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LayerKernels.LinearForward);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> LinearBackwardWeights =>
        _linearBackwardWeights ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LayerKernels.LinearBackwardWeights);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> LinearBackwardInput =>
        _linearBackwardInput ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LayerKernels.LinearBackwardInput);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, int, ArrayView<float>, float, int, ArrayView<double>> SoftmaxCrossEntropy =>
        _softmaxCrossEntropy ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, int, ArrayView<float>, float, int, ArrayView<double>>(LossKernels.SoftmaxCrossEntropy);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, ArrayView<float>, ArrayView<int>> Gather =>
        _gather ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, ArrayView<float>, ArrayView<int>>(DataKernels.Gather);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper> Sgd =>
        _sgd ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper>(OptimizerKernels.Sgd);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper> Adam =>
        _adam ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper>(OptimizerKernels.Adam);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper> RmsProp =>
        _rmsProp ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper>(OptimizerKernels.RmsProp);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper> Adagrad =>
        _adagrad ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.Hyper>(OptimizerKernels.Adagrad);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, float> Clip =>
        _clip ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(OptimizerKernels.ClipByNorm);

    public Action<Index1D, ArrayView<float>, ArrayView<float>> Square =>
        _square ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(OptimizerKernels.Square);
}
