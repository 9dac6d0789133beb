using System.Text.Json.Nodes;

namespace Nabla.Cli.Dashboard;

/// <summary>What a run is, as run.json records it (the page's legend, axes and image sizes come from here).</summary>
/// <param name="Name">Its name in the legend ("sgd", "adam", "train").</param>
/// <param name="Command">The nabla command that made it.</param>
/// <param name="Model">The model, one line ("784-32-10 sigmoid").</param>
/// <param name="Optimizer">The optimizer, PyTorch's name.</param>
/// <param name="LearningRate">Its learning rate at the start.</param>
/// <param name="BatchSize">Samples per batch.</param>
/// <param name="Epochs">Epochs asked for.</param>
/// <param name="StepsPerEpoch">Batches per epoch.</param>
/// <param name="Dataset">The data's name.</param>
/// <param name="ClassNames">Class names (empty for a regression).</param>
/// <param name="Image">Height and width of the input images, or null for a table.</param>
internal sealed record RunInfo(string Name, string Command, string Model, string Optimizer, float LearningRate, int BatchSize,
    int Epochs, int StepsPerEpoch, string Dataset, IReadOnlyList<string> ClassNames, (int Height, int Width)? Image)
{
    /// <summary>Where the run's epochs start on the page's x axis: the textbook's Adam phase continues its SGD phase (10).</summary>
    public int EpochOffset { get; init; }

    /// <summary>The trainer's epoch count when the run started (a trainer reused across runs numbers epochs on).</summary>
    public int TrainerEpochBase { get; init; }

    /// <summary>Classes (0 for a regression).</summary>
    public int Classes => ClassNames.Count;

    /// <summary>run.json's fields (its status is added by the recorder).</summary>
    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["command"] = Command,
        ["started"] = Started.ToString("O"),
        ["model"] = Model,
        ["optimizer"] = Optimizer,
        ["lr"] = LearningRate,
        ["batch_size"] = BatchSize,
        ["epochs"] = Epochs,
        ["steps_per_epoch"] = StepsPerEpoch,
        ["epoch_offset"] = EpochOffset,
        ["dataset"] = Dataset,
        ["classes"] = new JsonArray([.. ClassNames.Select(c => (JsonNode)c)]),
        ["image"] = Image is { } s ? new JsonArray(s.Height, s.Width) : null,
    };

    /// <summary>A model in one line: its layer plan ("784-32-10 sigmoid"), or its class name for a custom module.</summary>
    public static string Describe(NN.Module model, int inputFeatures) =>
        NN.LayerPlan.TryOf(model, out var plan, out _, inputFeatures) ? plan!.ToString() : model.GetType().Name;

    /// <summary>When the run started (UTC).</summary>
    public DateTime Started { get; init; } = DateTime.UtcNow;
}
