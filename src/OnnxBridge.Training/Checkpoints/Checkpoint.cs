using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Training.History;
using static TorchSharp.torch;

namespace OnnxBridge.Training.Checkpoints;

/// <summary>
/// A training checkpoint: the model's state dict, the optimizer's state (momentum buffers, Adam's
/// moments and step counts) and the history so far, in one safetensors file written atomically —
/// a crash leaves the previous checkpoint or the new one, never a mix. Model tensors are stored
/// under <c>model.&lt;key&gt;</c>, so the file also loads as a plain state dict with a prefix.
/// </summary>
public static class Checkpoint
{
    /// <summary>The format tag in the file's metadata.</summary>
    public const string Format = "onnxbridge.checkpoint";

    private const string ModelPrefix = "model.";
    private const string OptimizerTensor = "optimizer.torchsharp";

    /// <summary>Writes a checkpoint after <paramref name="epoch"/> (1-based) to <paramref name="path"/>.</summary>
    public static void Save(string path, Block model, optim.Optimizer optimizer, int epoch, TrainingHistory history, string description)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(history);
        var tensors = StateDicts.Capture(model).Select(e => (ModelPrefix + e.Key, e.Tensor)).ToList();
        var optimizerBytes = OptimizerBytes(optimizer);
        tensors.Add((OptimizerTensor, HostTensor.Create<byte>(optimizerBytes, optimizerBytes.Length)));
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = Format,
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            ["history"] = history.ToJson(),
            ["description"] = description,
        };
        Safetensors.Write(path, tensors, metadata);
    }

    /// <summary>
    /// Restores <paramref name="model"/> and <paramref name="optimizer"/> from a checkpoint and
    /// returns the epoch it was taken after and the history up to it. All or nothing: on any error
    /// both keep their previous state.
    /// </summary>
    /// <exception cref="CheckpointException">The file is not a checkpoint or does not fit the model or optimizer; the message says which and why.</exception>
    public static (int Epoch, TrainingHistory History) Load(string path, Block model, optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        var (tensors, metadata) = Read(path);
        if (!metadata.TryGetValue("epoch", out var epochText) || !int.TryParse(epochText, CultureInfo.InvariantCulture, out var epoch) || epoch < 1)
            throw new CheckpointException($"'{path}': metadata 'epoch' is missing or not a positive integer");
        TrainingHistory history;
        try
        {
            history = TrainingHistory.FromJson(metadata.GetValueOrDefault("history") ?? "");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
        {
            throw new CheckpointException($"'{path}': metadata 'history' is not a valid training history: {e.Message}", e);
        }
        if (history.Epochs.Count != epoch)
            throw new CheckpointException($"'{path}': the history has {history.Epochs.Count} epochs but the checkpoint says epoch {epoch}");
        var optimizerState = tensors.FirstOrDefault(t => t.Name == OptimizerTensor).Tensor
                             ?? throw new CheckpointException($"'{path}': no '{OptimizerTensor}' tensor");

        var modelBefore = StateDicts.Capture(model);
        var optimizerBefore = OptimizerBytes(optimizer);
        try
        {
            StateDicts.Load(model, [.. tensors.Where(t => t.Name.StartsWith(ModelPrefix, StringComparison.Ordinal)).Select(t => (t.Name[ModelPrefix.Length..], t.Tensor))], path);
            LoadOptimizer(optimizer, optimizerState.ToArray<byte>());
        }
        catch (Exception e) when (e is StateDictException or IOException or ArgumentException or InvalidOperationException or EndOfStreamException)
        {
            StateDicts.Load(model, modelBefore, "the model's previous state");
            LoadOptimizer(optimizer, optimizerBefore);
            throw new CheckpointException($"'{path}' does not fit this model and optimizer: {e.Message}", e);
        }
        return (epoch, history);
    }

    private static (IReadOnlyList<(string Name, HostTensor Tensor)> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        var (tensors, metadata) = Safetensors.Read(path);
        if (metadata.GetValueOrDefault("format") != Format || !metadata.ContainsKey("epoch"))
            throw new CheckpointException($"'{path}' is a safetensors file but not an OnnxBridge checkpoint (its metadata has no \"format\": \"{Format}\")");
        return (tensors, metadata);
    }

    private static byte[] OptimizerBytes(optim.Optimizer optimizer)
    {
        if (optimizer is not TorchSharp.Modules.OptimizerHelper helper)
            throw new ArgumentException($"optimizer {optimizer.GetType().Name} cannot save its state", nameof(optimizer));
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) helper.save_state_dict(writer);
        return buffer.ToArray();
    }

    private static void LoadOptimizer(optim.Optimizer optimizer, byte[] state)
    {
        if (optimizer is not TorchSharp.Modules.OptimizerHelper helper)
            throw new ArgumentException($"optimizer {optimizer.GetType().Name} cannot load a state", nameof(optimizer));
        using var reader = new BinaryReader(new MemoryStream(state));
        helper.load_state_dict(reader);
    }
}
