using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using OnnxBridge.Host.Models;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Host.Protocol;

/// <summary>An inference response body; <see cref="JsonLength"/> is set when binary output data follows the JSON.</summary>
internal sealed record InferResponse(byte[] Body, int? JsonLength);

/// <summary>
/// Writes the Open Inference Protocol response: model name and version, the request id, and each
/// requested output as JSON data, or as binary data after the JSON (<c>binary_data_size</c>) when
/// asked for. FP16 and BF16 outputs are written as JSON numbers (their float values).
/// </summary>
internal static class InferResponseWriter
{
    public static InferResponse Write(ServedModel model, InferRequest request, IReadOnlyList<NamedTensor> outputs)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var binary = new List<ReadOnlyMemory<byte>>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model_name", model.Name);
            json.WriteString("model_version", model.VersionText);
            if (request.Id is not null) json.WriteString("id", request.Id);
            json.WriteStartArray("outputs");
            foreach (var wanted in request.Outputs)
            {
                var tensor = outputs.First(o => o.Name == wanted.Name).Tensor;
                json.WriteStartObject();
                json.WriteString("name", wanted.Name);
                json.WriteString("datatype", Datatypes.NameOf(tensor.ElementType) ?? ElementTypes.Name(tensor.ElementType));
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                if (wanted.Binary)
                {
                    json.WriteStartObject("parameters");
                    json.WriteNumber("binary_data_size", tensor.Bytes.Length);
                    json.WriteEndObject();
                    binary.Add(tensor.Bytes);
                }
                else
                {
                    json.WriteStartArray("data");
                    WriteValues(json, tensor);
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        if (binary.Count == 0) return new InferResponse(buffer.WrittenSpan.ToArray(), null);
        var body = new byte[buffer.WrittenCount + binary.Sum(b => b.Length)];
        buffer.WrittenSpan.CopyTo(body);
        var at = buffer.WrittenCount;
        foreach (var chunk in binary)
        {
            chunk.Span.CopyTo(body.AsSpan(at));
            at += chunk.Length;
        }
        return new InferResponse(body, buffer.WrittenCount);
    }

    /// <summary>A float as a JSON number; NaN and ±Infinity, which JSON cannot hold as numbers, as the strings "NaN", "Infinity", "-Infinity".</summary>
    private static void Real(Utf8JsonWriter json, float value)
    {
        if (float.IsFinite(value)) json.WriteNumberValue(value);
        else json.WriteStringValue(float.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    }

    private static void Real(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value)) json.WriteNumberValue(value);
        else json.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    }

    private static void WriteValues(Utf8JsonWriter json, HostTensor tensor)
    {
        var bytes = tensor.Bytes.Span;
        var size = ElementTypes.SizeOf(tensor.ElementType);
        for (var at = 0; at + size <= bytes.Length; at += size)
        {
            var item = bytes.Slice(at, size);
            switch (tensor.ElementType)
            {
                case DataType.Float: Real(json, BinaryPrimitives.ReadSingleLittleEndian(item)); break;
                case DataType.Double: Real(json, BinaryPrimitives.ReadDoubleLittleEndian(item)); break;
                case DataType.Float16: Real(json, (float)BinaryPrimitives.ReadHalfLittleEndian(item)); break;
                case DataType.Bfloat16: Real(json, BFloat16.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(item))); break;
                case DataType.Bool: json.WriteBooleanValue(item[0] != 0); break;
                case DataType.Int8: json.WriteNumberValue((sbyte)item[0]); break;
                case DataType.Uint8: json.WriteNumberValue(item[0]); break;
                case DataType.Int16: json.WriteNumberValue(BinaryPrimitives.ReadInt16LittleEndian(item)); break;
                case DataType.Uint16: json.WriteNumberValue(BinaryPrimitives.ReadUInt16LittleEndian(item)); break;
                case DataType.Int32: json.WriteNumberValue(BinaryPrimitives.ReadInt32LittleEndian(item)); break;
                case DataType.Uint32: json.WriteNumberValue(BinaryPrimitives.ReadUInt32LittleEndian(item)); break;
                case DataType.Int64: json.WriteNumberValue(BinaryPrimitives.ReadInt64LittleEndian(item)); break;
                case DataType.Uint64: json.WriteNumberValue(BinaryPrimitives.ReadUInt64LittleEndian(item)); break;
                default: throw new NotSupportedException($"output data type {ElementTypes.Name(tensor.ElementType)} cannot be written as JSON");
            }
        }
    }
}
