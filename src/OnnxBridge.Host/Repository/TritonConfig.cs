using Google.Protobuf;
using Google.Protobuf.Reflection;
using OnnxBridge.Host.Grpc.Triton;
using OnnxBridge.Host.Models;
using OnnxBridge.Onnx.Repository;
using OnnxBridge.Runtime.Sessions;
using TritonModelConfig = OnnxBridge.Host.Grpc.Triton.ModelConfig;

namespace OnnxBridge.Host.Repository;

/// <summary>
/// A served model's configuration as Triton reports it: the <c>inference.ModelConfig</c> message
/// that the ModelConfig RPC returns and whose JSON form <c>GET /v2/models/{m}/config</c> answers
/// (proto field names, every primitive field written, 64-bit integers as strings as protobuf's
/// JSON mapping writes them). Dimensions start after the batch dimension when
/// <c>max_batch_size</c> is positive.
/// </summary>
internal static class TritonConfig
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true).WithFormatDefaultValues(true));
    private static readonly EnumDescriptor DataTypes = ModelConfigReflection.Descriptor.FindTypeByName<EnumDescriptor>("DataType");

    public static TritonModelConfig Of(ServedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        var message = new TritonModelConfig
        {
            Name = model.Name,
            Platform = "onnxruntime_onnx",
            Backend = "onnxruntime",
            VersionPolicy = config.Versions.Kind switch
            {
                "latest" => new ModelVersionPolicy { Latest = new ModelVersionPolicy.Types.Latest { NumVersions = (uint)config.Versions.Count } },
                "specific" => new ModelVersionPolicy { Specific = new ModelVersionPolicy.Types.Specific { Versions = { config.Versions.Listed } } },
                _ => new ModelVersionPolicy { All = new ModelVersionPolicy.Types.All() },
            },
            MaxBatchSize = config.MaxBatchSize,
            DefaultModelFilename = config.ModelFilename,
        };
        foreach (var input in model.Session.Inputs)
            message.Input.Add(new ModelInput { Name = input.Name, DataType = DataTypeOf(input), Dims = { Dims(input, model.BatchDimension) } });
        foreach (var output in model.Session.Outputs)
            message.Output.Add(new ModelOutput { Name = output.Name, DataType = DataTypeOf(output), Dims = { Dims(output, model.BatchDimension) } });
        if (config.DynamicBatching)
            message.DynamicBatching = new ModelDynamicBatching { MaxQueueDelayMicroseconds = (ulong)config.MaxQueueDelay.TotalMicroseconds };
        return message;
    }

    /// <summary>The configuration as the REST endpoint writes it.</summary>
    public static string JsonOf(ServedModel model) => Json.Format(Of(model));

    private static IEnumerable<long> Dims(TensorSignature tensor, bool batched) => tensor.Shape.Skip(batched ? 1 : 0).Select(d => d < 0 ? -1L : d);

    /// <summary>The generated enum's value for Triton's type name (the one config.pbtxt writes), so the two cannot disagree.</summary>
    private static DataType DataTypeOf(TensorSignature tensor) =>
        (DataType)DataTypes.FindValueByName(ModelRepository.TritonType(tensor.ElementType)).Number;

}
