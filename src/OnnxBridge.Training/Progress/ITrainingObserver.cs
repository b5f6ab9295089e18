using OnnxBridge.Training.History;

namespace OnnxBridge.Training.Progress;

/// <summary>Receives a run's progress (Keras's callbacks, read-only). Called on the training thread.</summary>
public interface ITrainingObserver
{
    /// <summary>Training starts (or resumes) at 1-based <paramref name="firstEpoch"/> of <paramref name="epochs"/>.</summary>
    void OnStart(int firstEpoch, int epochs, int batchesPerEpoch);

    /// <summary>A batch finished; <paramref name="meanLoss"/> and <paramref name="accuracy"/> are over the epoch so far.</summary>
    void OnBatch(int epoch, int batch, int batches, double meanLoss, double? accuracy);

    /// <summary>An epoch finished, validation included.</summary>
    void OnEpoch(EpochMetrics metrics, int epochs);

    /// <summary>Something worth a line of its own: a checkpoint written, early stopping.</summary>
    void OnMessage(string message);
}
