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
/// float32 → float16 cast, a three-output model (class probabilities, a score, features), an
/// Identity over [batch, seq, 20], a slow Identity (a long Loop), and a folder whose model is not ONNX.
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
        Write(repository, "sequence", Graph(DataType.Float, DataType.Float, new NodeProto { OpType = "Identity", Input = { "x" }, Output = { "y" } }, "seq", 20));
        Write(repository, "slow", SlowIdentity());
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

    /// <summary>y = x after a Loop of <see cref="SlowIterations"/> empty iterations: a run long enough (a good fraction of a second) for requests to queue behind it.</summary>
    private static ModelProto SlowIdentity()
    {
        var body = new GraphProto { Name = "body" };
        body.Input.Add(new ValueInfoProto { Name = "i", Type = Scalar(DataType.Int64) });
        body.Input.Add(new ValueInfoProto { Name = "cond_in", Type = Scalar(DataType.Bool) });
        body.Input.Add(Tensor("v_in", DataType.Float));
        body.Output.Add(new ValueInfoProto { Name = "cond_out", Type = Scalar(DataType.Bool) });
        body.Output.Add(Tensor("v_out", DataType.Float));
        body.Node.Add(new NodeProto { OpType = "Identity", Input = { "cond_in" }, Output = { "cond_out" } });
        body.Node.Add(new NodeProto { OpType = "Identity", Input = { "v_in" }, Output = { "v_out" } });
        var loop = new NodeProto { OpType = "Loop", Input = { "trips", "true", "x" }, Output = { "y" } };
        loop.Attribute.Add(new AttributeProto { Name = "body", Type = AttributeProto.Types.AttributeType.Graph, G = body });
        var model = Graph(DataType.Float, DataType.Float, loop);
        model.Graph.Initializer.Add(new TensorProto { Name = "trips", DataType = (int)DataType.Int64, Int64Data = { SlowIterations } });
        model.Graph.Initializer.Add(new TensorProto { Name = "true", DataType = (int)DataType.Bool, Int32Data = { 1 } });
        return model;
    }

    /// <summary>The slow model's Loop iterations.</summary>
    public const long SlowIterations = 1_000_000;

    private static ModelProto Graph(DataType input, DataType output, NodeProto node, params object[] itemShape)
    {
        var graph = new GraphProto { Name = "g", Node = { node } };
        graph.Input.Add(Tensor("x", input, itemShape));
        graph.Output.Add(Tensor("y", output, itemShape));
        return new ModelProto { IrVersion = 8, OpsetImport = { new OperatorSetIdProto { Version = 17 } }, Graph = graph };
    }

    private static TypeProto Scalar(DataType type) => new() { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto() } };

    /// <summary>A [batch, ...] tensor: <paramref name="itemShape"/> holds sizes (long/int) and names (string); [batch, 3] when empty.</summary>
    private static ValueInfoProto Tensor(string name, DataType type, params object[] itemShape)
    {
        var shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "batch" } } };
        foreach (var d in itemShape.Length == 0 ? [3] : itemShape)
            shape.Dim.Add(d is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, CultureInfo.InvariantCulture) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}
