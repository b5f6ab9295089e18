using System.Globalization;
using System.Text;
using System.Text.Json;
using OnnxBridge.Onnx.IO;

namespace OnnxBridge.Training.History;

/// <summary>The per-epoch metrics of a run (Keras's History), saved as CSV or JSON.</summary>
public sealed class TrainingHistory
{
    // A diverged run's NaN or infinite loss is written as "NaN" / "Infinity", as the CSV writes it, not refused.
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
    private readonly List<EpochMetrics> _epochs = [];

    /// <summary>Creates an empty history, or one continuing <paramref name="epochs"/> (a resumed run).</summary>
    public TrainingHistory(IEnumerable<EpochMetrics>? epochs = null) => _epochs.AddRange(epochs ?? []);

    /// <summary>The epochs so far, in order.</summary>
    public IReadOnlyList<EpochMetrics> Epochs => _epochs;

    /// <summary>The last epoch, or null before the first.</summary>
    public EpochMetrics? Last => _epochs.Count > 0 ? _epochs[^1] : null;

    /// <summary>Why training stopped early, if it did (e.g. "early stopping: val_loss did not improve for 3 epochs").</summary>
    public string? StopReason { get; internal set; }

    /// <summary>The epoch whose weights the model holds at the end (the best one when early stopping restored it).</summary>
    public int? RestoredEpoch { get; internal set; }

    internal void Add(EpochMetrics metrics) => _epochs.Add(metrics);

    /// <summary>Writes the history as CSV (one row per epoch, empty cells for missing values), atomically.</summary>
    public void SaveCsv(string path)
    {
        var text = new StringBuilder("epoch,learning_rate,train_loss,train_accuracy,val_loss,val_accuracy,seconds,live_tensors,resident_mb\n");
        foreach (var e in _epochs)
        {
            text.AppendJoin(',', [e.Epoch.ToString(CultureInfo.InvariantCulture), F(e.LearningRate), F(e.TrainLoss), F(e.TrainAccuracy), F(e.ValidationLoss),
                F(e.ValidationAccuracy), F(e.Seconds), e.LiveTensors.ToString(CultureInfo.InvariantCulture), F(e.ResidentMegabytes)]).Append('\n');
        }
        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>Writes the history as JSON (<c>{"epochs": [...], "stop_reason": ...}</c>), atomically.</summary>
    public void SaveJson(string path) => AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(ToJson()));

    /// <summary>The history as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Document(_epochs, StopReason, RestoredEpoch), JsonOptions);

    /// <summary>Reads a history written by <see cref="ToJson"/>.</summary>
    public static TrainingHistory FromJson(string json)
    {
        var document = JsonSerializer.Deserialize<Document>(json, JsonOptions) ?? throw new FormatException("the training history is empty");
        return new TrainingHistory(document.Epochs) { StopReason = document.StopReason, RestoredEpoch = document.RestoredEpoch };
    }

    private static string F(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    private sealed record Document(IReadOnlyList<EpochMetrics> Epochs, string? StopReason, int? RestoredEpoch);
}
