using System.Collections;
using System.Reflection;
using Google.Protobuf;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Onnx.Tests;

/// <summary>
/// Proof that proto/onnx.proto is wire-compatible with the ONNX IR: every model and every value file
/// of Debian's libonnx-testdata (1,072 cases written by onnx's own tools and by PyTorch) parses
/// with no unknown field left over and re-serializes to identical bytes.
/// </summary>
[TestClass]
public sealed class ProtoRoundTripTests
{
    private static string Root()
    {
        Environments.Require(Directory.Exists(Environments.OnnxTestDataRoot), $"ONNX test data at {Environments.OnnxTestDataRoot} (apt package libonnx-testdata)");
        return Environments.OnnxTestDataRoot;
    }

    [TestMethod]
    public void EveryTestDataModel_RoundTripsToIdenticalBytes()
    {
        var models = Directory.EnumerateFiles(Root(), "model.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var failures = new List<string>();

        foreach (var path in models)
        {
            var bytes = File.ReadAllBytes(path);
            var model = ModelProto.Parser.ParseFrom(bytes);
            Check(path, bytes, model, failures);
        }

        Assert.IsTrue(models.Count >= 1000, $"expected the full libonnx-testdata set, found {models.Count} models");
        Assert.AreEqual(0, failures.Count, $"{failures.Count} of {models.Count} models do not round-trip:\n" + string.Join("\n", failures.Take(20)));
    }

    [TestMethod]
    public void EveryTestDataValue_RoundTripsAsTheMessageItsGraphDeclares()
    {
        var failures = new List<string>();
        var counts = new Dictionary<string, int>();
        foreach (var modelPath in Directory.EnumerateFiles(Root(), "model.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath)).Graph;
            var initializers = graph.Initializer.Select(i => i.Name).ToHashSet();
            var feeds = graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
            foreach (var set in Directory.EnumerateDirectories(Path.GetDirectoryName(modelPath)!, "test_data_set_*"))
            {
                foreach (var path in Directory.EnumerateFiles(set, "*.pb").Order(StringComparer.Ordinal))
                {
                    var name = Path.GetFileNameWithoutExtension(path);
                    var index = int.Parse(name[(name.IndexOf('_', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                    var declared = name.StartsWith("input", StringComparison.Ordinal) ? feeds : graph.Output.ToList();
                    var parser = ParserFor(index < declared.Count ? declared[index].Type : null);
                    var bytes = File.ReadAllBytes(path);
                    var message = parser.ParseFrom(bytes);
                    counts[message.Descriptor.Name] = counts.GetValueOrDefault(message.Descriptor.Name) + 1;
                    Check(path, bytes, message, failures);
                }
            }
        }

        var total = counts.Values.Sum();
        Assert.IsTrue(total >= 3000, $"expected the full libonnx-testdata set, found {total} value files");
        Assert.IsTrue(counts.Keys.Count > 1, "the set should contain non-tensor values (sequences, optionals): " + string.Join(", ", counts));
        Assert.AreEqual(0, failures.Count, $"{failures.Count} of {total} value files do not round-trip:\n" + string.Join("\n", failures.Take(20)));
    }

    [TestMethod]
    public void UnknownFieldCheck_FieldOutsideTheSchema_IsFound()
    {
        // Guards the check above: a TensorProto carrying field 99 (not in the schema), nested in a graph.
        var tensor = new TensorProto { Name = "t" }.ToByteArray().Concat(new byte[] { 0x98, 0x06, 1 } /* key of field 99, varint; value 1 */).ToArray();
        var graph = new GraphProto();
        graph.Initializer.Add(TensorProto.Parser.ParseFrom(tensor));

        Assert.AreEqual("GraphProto.initializer[0]", FindUnknownFields(graph, "GraphProto"));
        Assert.IsNull(FindUnknownFields(new GraphProto { Name = "clean" }, "GraphProto"));
    }

    private static MessageParser ParserFor(TypeProto? type) => type?.ValueCase switch
    {
        TypeProto.ValueOneofCase.SequenceType => SequenceProto.Parser,
        TypeProto.ValueOneofCase.MapType => MapProto.Parser,
        TypeProto.ValueOneofCase.OptionalType => OptionalProto.Parser,
        TypeProto.ValueOneofCase.SparseTensorType => SparseTensorProto.Parser,
        _ => TensorProto.Parser,
    };

    private static void Check(string path, byte[] original, IMessage message, List<string> failures)
    {
        if (FindUnknownFields(message, message.Descriptor.Name) is { } where)
            failures.Add($"{path}: unknown fields in {where} (the schema misses a field)");
        else if (!message.ToByteArray().AsSpan().SequenceEqual(original))
            failures.Add($"{path}: re-serialized bytes differ");
    }

    /// <summary>The path of the first message holding fields our schema does not declare, or null.</summary>
    private static string? FindUnknownFields(IMessage message, string where)
    {
        var unknown = message.GetType().GetField("_unknownFields", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(message);
        if (unknown is not null) return where;
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            if (field.FieldType != Google.Protobuf.Reflection.FieldType.Message) continue;
            var value = field.Accessor.GetValue(message);
            if (field.IsRepeated)
            {
                var i = 0;
                foreach (IMessage item in (IList)value)
                {
                    if (FindUnknownFields(item, $"{where}.{field.Name}[{i++}]") is { } found) return found;
                }
            }
            else if (value is IMessage child && field.Accessor.HasValue(message) && FindUnknownFields(child, $"{where}.{field.Name}") is { } found)
            {
                return found;
            }
        }
        return null;
    }
}
