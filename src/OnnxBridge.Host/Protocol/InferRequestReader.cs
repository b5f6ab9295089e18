using System.Buffers.Binary;
using System.Text.Json;
using OnnxBridge.Host.Models;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Host.Protocol;

/// <summary>
/// Reads an Open Inference Protocol inference request — JSON, optionally followed by binary tensor
/// data (<c>Inference-Header-Content-Length</c>, <c>binary_data_size</c>) — and checks it against
/// the model: input names, datatypes, shapes, data lengths, requested outputs. Every refusal is a
/// 400 naming the input and the values.
/// </summary>
internal static class InferRequestReader
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static InferRequest Read(ReadOnlyMemory<byte> body, long? jsonLength, ServedModel model)
    {
        if (jsonLength is { } length && (length < 0 || length > body.Length))
            throw InferenceError.BadRequest($"Inference-Header-Content-Length is {length}, but the body has {body.Length} bytes");
        var json = jsonLength is { } l ? body[..(int)l] : body;
        var binary = jsonLength is { } b ? body[(int)b..] : ReadOnlyMemory<byte>.Empty;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw InferenceError.BadRequest($"malformed JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw InferenceError.BadRequest("the request must be a JSON object with \"inputs\"");
            var id = root.TryGetProperty("id", out var idElement)
                ? idElement.ValueKind == JsonValueKind.String ? Text(idElement, "\"id\"") : throw InferenceError.BadRequest("\"id\" must be a string")
                : null;
            var binaryDefault = Flag(root, "binary_data_output", "request");
            var (inputs, rows, consumed) = Inputs(root, binary, model);
            if (consumed != binary.Length)
                throw InferenceError.BadRequest($"the body carries {binary.Length} bytes of binary data after the JSON, but the inputs' binary_data_size add up to {consumed}");
            return new InferRequest(id, inputs, Outputs(root, model, binaryDefault), rows);
        }
    }

    private static (List<NamedTensor> Inputs, long Rows, int Consumed) Inputs(JsonElement root, ReadOnlyMemory<byte> binary, ServedModel model)
    {
        if (!root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() == 0)
            throw InferenceError.BadRequest("the request needs \"inputs\": a non-empty array");
        var checks = new InputChecks(model);
        var byName = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        var consumed = 0;
        foreach (var input in inputs.EnumerateArray())
        {
            if (input.ValueKind != JsonValueKind.Object) throw InferenceError.BadRequest("each input must be a JSON object");
            var name = String(input, "name", "input");
            var datatype = String(input, "datatype", $"input '{name}'");
            var shape = Shape(input, name);
            var (type, count) = checks.Check(name, datatype, shape);
            var size = ElementTypes.SizeOf(type);
            byte[] bytes;
            if (input.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
                && parameters.TryGetProperty("binary_data_size", out var sizeElement))
            {
                if (sizeElement.ValueKind != JsonValueKind.Number || !sizeElement.TryGetInt64(out var binarySize) || binarySize < 0)
                    throw InferenceError.BadRequest($"input '{name}': binary_data_size must be a non-negative integer, got {Truncated(sizeElement.GetRawText())}");
                if (binarySize != count * size)
                    throw InferenceError.BadRequest($"input '{name}': shape {HostTensor.FormatShape(shape)} of {datatype} needs {count * size} bytes, binary_data_size is {binarySize}");
                if (consumed + binarySize > binary.Length)
                    throw InferenceError.BadRequest($"input '{name}': binary_data_size {binarySize} runs past the end of the body ({binary.Length - consumed} bytes left)");
                if (input.TryGetProperty("data", out _)) throw InferenceError.BadRequest($"input '{name}' has both \"data\" and binary_data_size");
                bytes = binary.Slice(consumed, (int)binarySize).ToArray();
                consumed += (int)binarySize;
            }
            else
            {
                if (!input.TryGetProperty("data", out var data)) throw InferenceError.BadRequest($"input '{name}' has no \"data\" (or binary_data_size)");
                // Counted before anything is allocated: a shape claim is only believed as far as the
                // body backs it, so a request never allocates more than 8 bytes per JSON value it sent.
                var values = JsonData.Count(data, name);
                if (values != count)
                    throw InferenceError.BadRequest($"input '{name}': shape {HostTensor.FormatShape(shape)} needs {count} values, \"data\" has {values}");
                bytes = new byte[count * size];
                JsonData.Decode(data, type, bytes, name);
            }
            byName[name] = HostTensor.Wrap(type, shape, bytes);
        }
        return (checks.InModelOrder(byName), checks.Rows, consumed);
    }

    private static long[] Shape(JsonElement input, string name)
    {
        if (!input.TryGetProperty("shape", out var element) || element.ValueKind != JsonValueKind.Array)
            throw InferenceError.BadRequest($"input '{name}' needs \"shape\": an array of dimensions");
        var shape = new long[element.GetArrayLength()];
        var i = 0;
        foreach (var d in element.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var size) || size < 0)
                throw InferenceError.BadRequest($"input '{name}': shape {element.GetRawText()} must hold non-negative integers");
            shape[i++] = size;
        }
        return shape;
    }

    private static List<RequestedOutput> Outputs(JsonElement root, ServedModel model, bool binaryDefault)
    {
        var names = model.Session.OutputNames;
        if (!root.TryGetProperty("outputs", out var outputs)) return [.. names.Select(n => new RequestedOutput(n, binaryDefault))];
        if (outputs.ValueKind != JsonValueKind.Array) throw InferenceError.BadRequest("\"outputs\" must be an array");
        var requested = new List<RequestedOutput>();
        foreach (var output in outputs.EnumerateArray())
        {
            if (output.ValueKind != JsonValueKind.Object) throw InferenceError.BadRequest("each requested output must be a JSON object");
            var name = String(output, "name", "requested output");
            InputChecks.CheckOutput(model, name, requested.Select(r => r.Name));
            var binary = output.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object ? Flag(output, "binary_data", $"output '{name}'", binaryDefault) : binaryDefault;
            requested.Add(new RequestedOutput(name, binary));
        }
        return requested;
    }

    /// <summary>A boolean in <c>parameters</c>; absent means <paramref name="fallback"/>.</summary>
    private static bool Flag(JsonElement owner, string key, string what, bool fallback = false)
    {
        if (!owner.TryGetProperty("parameters", out var parameters)) return fallback;
        if (parameters.ValueKind != JsonValueKind.Object) throw InferenceError.BadRequest($"{what}: \"parameters\" must be an object");
        if (!parameters.TryGetProperty(key, out var value)) return fallback;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw InferenceError.BadRequest($"{what}: parameter {key} must be true or false"),
        };
    }

    private static string String(JsonElement owner, string key, string what) =>
        owner.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String && Text(value, $"{what}: \"{key}\"") is { Length: > 0 } text
            ? text : throw InferenceError.BadRequest($"{what} needs \"{key}\": a non-empty string");

    /// <summary>A JSON string's text; invalid UTF-8 or an escaped lone surrogate (<c>\ud800</c>), which no string can hold, is a 400.</summary>
    private static string Text(JsonElement value, string what)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw InferenceError.BadRequest($"{what} is not valid Unicode text (invalid UTF-8, or an unpaired surrogate escape such as \\ud800)");
        }
    }

    /// <summary>At most 40 characters of a JSON value, for messages.</summary>
    private static string Truncated(string raw) => raw.Length <= 40 ? raw : raw[..40] + "…";
}

/// <summary>Tensor data as JSON numbers (or booleans), flat or nested, to and from raw little-endian bytes.</summary>
internal static class JsonData
{
    /// <summary>How many values <paramref name="data"/> holds, nested arrays flattened; allocates nothing.</summary>
    public static long Count(JsonElement data, string name)
    {
        if (data.ValueKind != JsonValueKind.Array) throw InferenceError.BadRequest($"input '{name}': \"data\" must be an array");
        long count = 0;
        foreach (var value in data.EnumerateArray()) count += value.ValueKind == JsonValueKind.Array ? Count(value, name) : 1;
        return count;
    }

    /// <summary>Writes the values of <paramref name="data"/> (nested arrays flattened in row-major order) into <paramref name="bytes"/>; returns how many there were.</summary>
    public static long Decode(JsonElement data, DataType type, byte[] bytes, string name)
    {
        if (data.ValueKind != JsonValueKind.Array) throw InferenceError.BadRequest($"input '{name}': \"data\" must be an array");
        var size = ElementTypes.SizeOf(type);
        long index = 0;
        Walk(data, 0);
        return index;

        void Walk(JsonElement array, int depth)
        {
            foreach (var value in array.EnumerateArray())
            {
                if (value.ValueKind == JsonValueKind.Array)
                {
                    Walk(value, depth + 1);
                    continue;
                }
                if ((index + 1) * size > bytes.Length)
                {
                    index++; // too many values: count them for the message, write nothing
                    continue;
                }
                Write(value, type, bytes.AsSpan((int)(index * size), size), name, index);
                index++;
            }
        }
    }

    private static void Write(JsonElement value, DataType type, Span<byte> target, string name, long index)
    {
        if (type == DataType.Bool)
        {
            target[0] = value.ValueKind switch
            {
                JsonValueKind.True => 1,
                JsonValueKind.False => 0,
                _ => throw Bad(value, "BOOL", name, index),
            };
            return;
        }
        if (value.ValueKind != JsonValueKind.Number) throw Bad(value, Datatypes.NameOf(type) ?? type.ToString(), name, index);
        switch (type)
        {
            case DataType.Float when value.TryGetDouble(out var d) && float.IsFinite((float)d): BinaryPrimitives.WriteSingleLittleEndian(target, (float)d); return;
            case DataType.Double when value.TryGetDouble(out var d): BinaryPrimitives.WriteDoubleLittleEndian(target, d); return;
            case DataType.Float16 when value.TryGetDouble(out var d) && Half.IsFinite((Half)d): BinaryPrimitives.WriteHalfLittleEndian(target, (Half)d); return;
            case DataType.Bfloat16 when value.TryGetDouble(out var d) && BFloat16.FromSingle((float)d) is var bits && float.IsFinite(BFloat16.ToSingle(bits)):
                BinaryPrimitives.WriteUInt16LittleEndian(target, bits); return;
            case DataType.Int8 when value.TryGetSByte(out var v): target[0] = (byte)v; return;
            case DataType.Uint8 when value.TryGetByte(out var v): target[0] = v; return;
            case DataType.Int16 when value.TryGetInt16(out var v): BinaryPrimitives.WriteInt16LittleEndian(target, v); return;
            case DataType.Uint16 when value.TryGetUInt16(out var v): BinaryPrimitives.WriteUInt16LittleEndian(target, v); return;
            case DataType.Int32 when value.TryGetInt32(out var v): BinaryPrimitives.WriteInt32LittleEndian(target, v); return;
            case DataType.Uint32 when value.TryGetUInt32(out var v): BinaryPrimitives.WriteUInt32LittleEndian(target, v); return;
            case DataType.Int64 when value.TryGetInt64(out var v): BinaryPrimitives.WriteInt64LittleEndian(target, v); return;
            case DataType.Uint64 when value.TryGetUInt64(out var v): BinaryPrimitives.WriteUInt64LittleEndian(target, v); return;
            default: throw Bad(value, Datatypes.NameOf(type) ?? type.ToString(), name, index);
        }
    }

    private static InferenceError Bad(JsonElement value, string datatype, string name, long index)
    {
        var text = value.GetRawText();
        return InferenceError.BadRequest($"input '{name}': value {index} ({(text.Length > 40 ? text[..40] + "…" : text)}) is not a valid {datatype}");
    }
}
