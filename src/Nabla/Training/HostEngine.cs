using Nabla.Compute;
using Nabla.Data;
using Nabla.Optim;

namespace Nabla.Training;

/// <summary>
/// The CPU as a <see cref="ITrainingEngine"/>: each batch is gathered on the host and run at once through the
/// trainer's <see cref="IStepEngine"/> (explicit or autograd), then the optimizer steps.
/// </summary>
internal sealed class HostEngine(Trainer trainer) : ITrainingEngine
{
    private Optimizer? _optimizer;
    private float _maxGradNorm;

    public string Description => "cpu";

    public void Prepare(DataLoader loader, Losses.Loss loss) { } // the step engines compute any loss the trainer has

    public void BeginEpoch(DataLoader loader, ReadOnlySpan<int> order, Optimizer optimizer, float maxGradNorm, int epoch) =>
        (_optimizer, _maxGradNorm) = (optimizer, maxGradNorm);

    public StepOutcome Step(DataLoader loader, int epoch, int batch)
    {
        var b = loader.LoadBatch(batch);
        loader.GatherAhead(batch + 1, ComputeContext.Current.Pool); // a worker gathers the next batch while this one trains
        if (b.Targets is { } targets) return new StepOutcome(trainer.HostRegressionStep(b.Features, targets, b.Size, b.Width, _optimizer!, _maxGradNorm), 0, true);
        var (loss, correct) = trainer.HostStep(b.Features, b.Labels, b.Size, b.Width, _optimizer!, _maxGradNorm);
        return new StepOutcome(loss, correct, true);
    }

    public PassTotals EndEpoch() => default;

    public void BeginEvaluation(DataLoader loader, ReadOnlySpan<int> order) { }

    public StepOutcome Evaluate(DataLoader loader, int batch)
    {
        var b = loader.LoadBatch(batch);
        loader.GatherAhead(batch + 1, ComputeContext.Current.Pool);
        var engine = trainer.EvaluationEngine(loader.BatchSize, b.Width);
        if (b.Targets is { } targets) return new StepOutcome(engine.RunRegression(b.Features, targets, b.Size, backward: false), 0, true);
        var (loss, correct) = engine.Run(b.Features, b.Labels, b.Size, backward: false);
        return new StepOutcome(loss, correct, true);
    }

    public PassTotals EndEvaluation() => default;
}
