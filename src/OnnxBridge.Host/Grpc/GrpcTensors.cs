using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxBridge.Host.Models;
using OnnxBridge.Host.Protocol;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Host.Grpc;

/// <summary>
/// A gRPC inference request's inputs as tensors: each from its entry in <c>raw_input_contents</c>
/// (row-major little-endian bytes, the protocol's fast path) or from its typed <c>contents</c>
/// (<c>fp32_contents</c>, <c>int64_contents</c>, ...; FP16 and BF16 have no typed field and need raw
/// contents). Names, datatypes and shapes pass the same <see cref="InputChecks"/> as REST, and the
/// data's length is checked against the shape before anything is allocated.
/// </summary>
internal static class GrpcTensors
{
    public static (List<NamedTensor> Inputs, long Rows) Inputs(ModelInferRequest request, ServedModel model)
    {
        if (request.Inputs.Count == 0) throw InferenceError.BadRequest("the request needs inputs");
        var raw = request.RawInputContents;
        if (raw.Count > 0 && raw.Count != request.Inputs.Count)
            throw InferenceError.BadRequest($"raw_input_contents has {raw.Count} entries for {request.Inputs.Count} inputs; give one per input, in order, or none");
        var checks = new InputChecks(model);
        var given = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        for (int i = 0; i < request.Inputs.Count; i++)
        {
            var input = request.Inputs[i];
            var shape = input.Shape.ToArray();
            var (type, count) = checks.Check(input.Name, input.Datatype, shape);
            var bytes = raw.Count > 0 ? FromRaw(input, raw[i], type, count) : FromContents(input, type, count);
            given[input.Name] = HostTensor.Wrap(type, shape, bytes);
        }
        return (checks.InModelOrder(given), checks.Rows);
    }

    private static byte[] FromRaw(ModelInferRequest.Types.InferInputTensor input, ByteString raw, DataType type, long count)
    {
        if (input.Contents is not null) throw InferenceError.BadRequest($"input '{input.Name}' has both contents and raw_input_contents");
        var needed = count * ElementTypes.SizeOf(type);
        if (raw.Length != needed)
            throw InferenceError.BadRequest($"input '{input.Name}': shape {HostTensor.FormatShape(input.Shape)} of {input.Datatype} needs {needed} bytes, raw_input_contents has {raw.Length}");
        return raw.ToByteArray();
    }

    private static byte[] FromContents(ModelInferRequest.Types.InferInputTensor input, DataType type, long count)
    {
        var contents = input.Contents ?? throw InferenceError.BadRequest($"input '{input.Name}' has no contents (and the request no raw_input_contents)");
        var (given, field) = type switch
        {
            DataType.Bool => (contents.BoolContents.Count, "bool_contents"),
            DataType.Int8 or DataType.Int16 or DataType.Int32 => (contents.IntContents.Count, "int_contents"),
            DataType.Int64 => (contents.Int64Contents.Count, "int64_contents"),
            DataType.Uint8 or DataType.Uint16 or DataType.Uint32 => (contents.UintContents.Count, "uint_contents"),
            DataType.Uint64 => (contents.Uint64Contents.Count, "uint64_contents"),
            DataType.Float => (contents.Fp32Contents.Count, "fp32_contents"),
            DataType.Double => (contents.Fp64Contents.Count, "fp64_contents"),
            _ => throw InferenceError.BadRequest($"input '{input.Name}': {input.Datatype} has no typed contents in the protocol; send it in raw_input_contents"),
        };
        if (given != count) throw InferenceError.BadRequest($"input '{input.Name}': shape {HostTensor.FormatShape(input.Shape)} needs {count} values, {field} has {given}");
        return type switch
        {
            DataType.Bool => [.. contents.BoolContents.Select(b => b ? (byte)1 : (byte)0)],
            DataType.Int8 => [.. contents.IntContents.Select((v, i) => (byte)(sbyte)InRange(v, sbyte.MinValue, sbyte.MaxValue, input, i))],
            DataType.Int16 => Bytes(contents.IntContents.Select((v, i) => (short)InRange(v, short.MinValue, short.MaxValue, input, i)).ToArray()),
            DataType.Int32 => Bytes(contents.IntContents.ToArray()),
            DataType.Int64 => Bytes(contents.Int64Contents.ToArray()),
            DataType.Uint8 => [.. contents.UintContents.Select((v, i) => (byte)InRange(v, 0, byte.MaxValue, input, i))],
            DataType.Uint16 => Bytes(contents.UintContents.Select((v, i) => (ushort)InRange(v, 0, ushort.MaxValue, input, i)).ToArray()),
            DataType.Uint32 => Bytes(contents.UintContents.ToArray()),
            DataType.Uint64 => Bytes(contents.Uint64Contents.ToArray()),
            DataType.Float => Bytes(contents.Fp32Contents.ToArray()),
            _ => Bytes(contents.Fp64Contents.ToArray()),
        };
    }

    private static long InRange(long value, long min, long max, ModelInferRequest.Types.InferInputTensor input, int index) =>
        value >= min && value <= max ? value : throw InferenceError.BadRequest($"input '{input.Name}': value {index} ({value}) does not fit {input.Datatype}");

    private static byte[] Bytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
