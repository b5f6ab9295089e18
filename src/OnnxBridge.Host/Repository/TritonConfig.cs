using System.Globalization;
using OnnxBridge.Host.Models;
using OnnxBridge.Onnx.Repository;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Host.Repository;

/// <summary>
/// A served model's configuration as Triton's <c>GET /v2/models/{m}/config</c> gives it: the JSON
/// form of <c>ModelConfig</c> (model_config.proto) with proto field names, 64-bit integers as
/// strings as protobuf's JSON mapping writes them, and the dimensions after the batch dimension
/// when <c>max_batch_size</c> is positive.
/// </summary>
internal static class TritonConfig
{
    public static Dictionary<string, object> Of(ServedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        var json = new Dictionary<string, object>
        {
            ["name"] = model.Name,
            ["platform"] = "onnxruntime_onnx",
            ["backend"] = "onnxruntime",
            ["version_policy"] = config.Versions.Kind switch
            {
                "latest" => new Dictionary<string, object> { ["latest"] = new Dictionary<string, object> { ["num_versions"] = config.Versions.Count } },
                "specific" => new Dictionary<string, object> { ["specific"] = new Dictionary<string, object> { ["versions"] = config.Versions.Listed.Select(Int64).ToArray() } },
                _ => new Dictionary<string, object> { ["all"] = new Dictionary<string, object>() },
            },
            ["max_batch_size"] = config.MaxBatchSize,
            ["input"] = model.Session.Inputs.Select(t => Tensor(t, model.BatchDimension)).ToArray(),
            ["output"] = model.Session.Outputs.Select(t => Tensor(t, model.BatchDimension)).ToArray(),
            ["default_model_filename"] = config.ModelFilename,
        };
        if (config.DynamicBatching)
            json["dynamic_batching"] = new Dictionary<string, object> { ["max_queue_delay_microseconds"] = Int64((long)config.MaxQueueDelay.TotalMicroseconds) };
        return json;
    }

    private static Dictionary<string, object> Tensor(TensorSignature tensor, bool batched) => new()
    {
        ["name"] = tensor.Name,
        ["data_type"] = ModelRepository.TritonType(tensor.ElementType),
        ["dims"] = tensor.Shape.Skip(batched ? 1 : 0).Select(d => Int64(d < 0 ? -1 : d)).ToArray(),
    };

    private static string Int64(long value) => value.ToString(CultureInfo.InvariantCulture);
}
