using System.Globalization;
using Google.Protobuf;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Repository;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Host.Tests;

/// <summary>
/// Model repositories for the tests, in Triton's layout: an MLP (8 → 16 → 3) in two versions with
/// dynamic batching, the same MLP without batching, one Identity model per served datatype, a
/// float32 → float16 cast, a three-output model (class probabilities, a score, features), and a
/// folder whose model is not ONNX.
/// </summary>
internal static class TestRepository
{
    public static readonly DataType[] IdentityTypes =
    [
        DataType.Bool, DataType.Uint8, DataType.Uint16, DataType.Uint32, DataType.Uint64, DataType.Int8, DataType.Int16,
        DataType.Int32, DataType.Int64, DataType.Float16, DataType.Float, DataType.Double,
    ];

    public static InputSpec MlpInput { get; } = InputSpec.Float32("input", Dim.Named("batch"), 8);

    /// <summary>Writes the repository; returns the two MLP versions' ONNX bytes (for direct ONNX Runtime runs).</summary>
    public static (byte[] Version1, byte[] Version2) Create(string repository, int maxQueueDelayMicroseconds = 2000)
    {
        var version1 = Mlp(seed: 1);
        var version2 = Mlp(seed: 2);
        ModelRepository.Write(repository, "mlp", 1, version1);
        ModelRepository.Write(repository, "mlp", 2, version2);
        var config = ModelRepository.Config("mlp", version1).Replace("dynamic_batching { }",
            string.Create(CultureInfo.InvariantCulture, $"dynamic_batching {{\n  max_queue_delay_microseconds: {maxQueueDelayMicroseconds}\n}}"), StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(repository, "mlp", "config.pbtxt"), config);

        ModelRepository.Write(repository, "plain", 1, version1);
        File.Delete(Path.Combine(repository, "plain", "config.pbtxt")); // no config: no batching

        foreach (var type in IdentityTypes) Write(repository, $"identity_{Name(type)}", Identity(type));
        Write(repository, "to_fp16", CastToHalf());
        random.manual_seed(3);
        Write(repository, "heads", OnnxExporter.Export(new OnnxBridge.Tests.PluginBlocks.TwoHeads(), new ExportOptions(InputSpec.Float32("x", Dim.Named("batch"), 4)) { OutputNames = ["probabilities", "score", "features"] }));
        Directory.CreateDirectory(Path.Combine(repository, "broken", "1"));
        File.WriteAllText(Path.Combine(repository, "broken", "1", "model.onnx"), "not a model");
        return (version1.ToByteArray(), version2.ToByteArray());
    }

    public static string Name(DataType type) => type.ToString().ToLowerInvariant();

    private static ModelProto Mlp(int seed)
    {
        random.manual_seed(seed);
        var net = Net.Sequential().Linear(16).ReLU().Linear(3).Input(MlpInput).Build();
        return OnnxExporter.Export(net, new ExportOptions(MlpInput));
    }

    private static void Write(string repository, string name, ModelProto model) => ModelRepository.Write(repository, name, 1, model, maxBatchSize: 8);

    private static ModelProto Identity(DataType type) => Graph(type, type, new NodeProto { OpType = "Identity", Input = { "x" }, Output = { "y" } });

    private static ModelProto CastToHalf() => Graph(DataType.Float, DataType.Float16,
        new NodeProto { OpType = "Cast", Input = { "x" }, Output = { "y" }, Attribute = { new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)DataType.Float16 } } });

    private static ModelProto Graph(DataType input, DataType output, NodeProto node)
    {
        var graph = new GraphProto { Name = "g", Node = { node } };
        graph.Input.Add(Tensor("x", input));
        graph.Output.Add(Tensor("y", output));
        return new ModelProto { IrVersion = 8, OpsetImport = { new OperatorSetIdProto { Version = 17 } }, Graph = graph };
    }

    private static ValueInfoProto Tensor(string name, DataType type) => new()
    {
        Name = name,
        Type = new TypeProto
        {
            TensorType = new TypeProto.Types.Tensor
            {
                ElemType = (int)type,
                Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "batch" }, new TensorShapeProto.Types.Dimension { DimValue = 3 } } },
            },
        },
    };
}
