namespace OnnxBridge.Training.History;

/// <summary>
/// One epoch's results. Accuracies are null for losses without one; validation values are null
/// without validation data. <see cref="LiveTensors"/> and <see cref="ResidentMegabytes"/> measure
/// memory after the epoch: both stay flat when every step is inside a dispose scope.
/// </summary>
public sealed record EpochMetrics(
    int Epoch,
    double LearningRate,
    double TrainLoss,
    double? TrainAccuracy,
    double? ValidationLoss,
    double? ValidationAccuracy,
    double Seconds,
    long LiveTensors,
    double ResidentMegabytes);
