using OnnxBridge.Host.Models;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Host.Protocol;

/// <summary>
/// The checks every protocol (REST JSON, gRPC) makes of a request's inputs against the model, before
/// any input's data is read or allocated: known names, each once; the model's datatype; a shape that
/// fits the model's (fixed dimensions, batch size within <c>max_batch_size</c>, one batch size for
/// all inputs); an element count that cannot overflow. Every refusal is a 400 naming the input and the values.
/// </summary>
internal sealed class InputChecks(ServedModel model)
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private long? _rows;

    /// <summary>The rows of the request (its batch size; 1 for a model without a batch dimension).</summary>
    public long Rows => _rows ?? 1;

    /// <summary>Checks one input; returns its element type and element count.</summary>
    public (DataType Type, long Count) Check(string name, string datatype, long[] shape)
    {
        var signatures = model.Session.Inputs;
        var signature = signatures.FirstOrDefault(s => s.Name == name)
            ?? throw InferenceError.BadRequest($"unknown input '{name}'; model '{model.Name}' takes {string.Join(", ", signatures.Select(s => $"'{s.Name}'"))}");
        if (!_seen.Add(name)) throw InferenceError.BadRequest($"input '{name}' is given twice");
        var type = Datatypes.TypeOf(datatype)
            ?? throw InferenceError.BadRequest($"input '{name}': datatype '{datatype}' is not supported; use one of {Datatypes.Served}");
        if (type != signature.ElementType)
            throw InferenceError.BadRequest($"input '{name}' has datatype {datatype}, but the model expects {Datatypes.NameOf(signature.ElementType) ?? ElementTypes.Name(signature.ElementType)}");
        CheckShape(shape, name, signature);
        if (model.BatchDimension)
        {
            if (_rows is { } r && r != shape[0]) throw InferenceError.BadRequest($"input '{name}' has batch size {shape[0]}, another input has {r}");
            _rows = shape[0];
        }
        return (type, Count(shape, name));
    }

    /// <summary>The inputs in the model's order; 400 naming any the request left out.</summary>
    public List<NamedTensor> InModelOrder(IReadOnlyDictionary<string, HostTensor> given)
    {
        var signatures = model.Session.Inputs;
        var missing = signatures.Where(s => !given.ContainsKey(s.Name)).Select(s => $"'{s.Name}'").ToList();
        if (missing.Count > 0) throw InferenceError.BadRequest($"missing input {string.Join(", ", missing)} for model '{model.Name}'");
        return [.. signatures.Select(s => new NamedTensor(s.Name, given[s.Name]))];
    }

    /// <summary>Checks a requested output: the model has it, and it is not asked for twice.</summary>
    public static void CheckOutput(ServedModel model, string name, IEnumerable<string> alreadyRequested)
    {
        var names = model.Session.OutputNames;
        if (!names.Contains(name)) throw InferenceError.BadRequest($"unknown output '{name}'; model '{model.Name}' has {string.Join(", ", names.Select(n => $"'{n}'"))}");
        if (alreadyRequested.Contains(name)) throw InferenceError.BadRequest($"output '{name}' is requested twice");
    }

    private void CheckShape(long[] shape, string name, TensorSignature signature)
    {
        if (shape.Any(d => d < 0)) throw InferenceError.BadRequest($"input '{name}': shape {HostTensor.FormatShape(shape)} must hold non-negative integers");
        string Expected() => signature.ToString()[(signature.Name.Length + 2)..];
        if (shape.Length != signature.Shape.Count)
            throw InferenceError.BadRequest($"input '{name}' has shape {HostTensor.FormatShape(shape)}, but the model expects {Expected()}");
        for (int d = 0; d < shape.Length; d++)
        {
            if (signature.Shape[d] >= 0 && signature.Shape[d] != shape[d])
                throw InferenceError.BadRequest($"input '{name}' has shape {HostTensor.FormatShape(shape)}, but the model expects {Expected()} (dimension {d} must be {signature.Shape[d]})");
        }
        if (model.BatchDimension && model.Config.MaxBatchSize > 0 && shape[0] > model.Config.MaxBatchSize)
            throw InferenceError.BadRequest($"input '{name}' has batch size {shape[0]}, more than the model's max_batch_size {model.Config.MaxBatchSize}");
    }

    private static long Count(long[] shape, string name)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d != 0 && count > (int.MaxValue / 16) / d) throw InferenceError.BadRequest($"input '{name}': shape {HostTensor.FormatShape(shape)} is too large");
            count *= d;
        }
        return count;
    }
}
