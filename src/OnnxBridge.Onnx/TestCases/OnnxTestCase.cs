using System.Globalization;
using Google.Protobuf;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;

namespace OnnxBridge.Onnx.TestCases;

/// <summary>
/// A folder in the ONNX test-case layout used by onnx's backend tests and ONNX Runtime's test
/// runner: <c>model.onnx</c> plus <c>test_data_set_N/input_K.pb</c> and <c>output_K.pb</c>, each a
/// serialized <see cref="TensorProto"/>. OnnxBridge writes its parity bundles in this layout so they
/// can be re-checked by any ONNX tool, on any machine.
/// </summary>
public sealed class OnnxTestCase
{
    /// <summary>The model file's name inside a test-case folder.</summary>
    public const string ModelFileName = "model.onnx";

    private OnnxTestCase(string folder, ModelProto model, IReadOnlyList<TestDataSet> dataSets)
    {
        Folder = folder;
        Model = model;
        DataSets = dataSets;
    }

    /// <summary>The folder the case was read from.</summary>
    public string Folder { get; }

    /// <summary>The full path of <c>model.onnx</c>.</summary>
    public string ModelPath => Path.Combine(Folder, ModelFileName);

    /// <summary>The parsed model.</summary>
    public ModelProto Model { get; }

    /// <summary>The data sets, in folder-number order.</summary>
    public IReadOnlyList<TestDataSet> DataSets { get; }

    /// <summary>
    /// Writes a test case: the model and each data set, every file atomically. Data-set folders
    /// left from an earlier write are removed first so old and new data never mix.
    /// </summary>
    public static void Write(string folder, ModelProto model, IReadOnlyList<TestDataSet> dataSets)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataSets);
        Directory.CreateDirectory(folder);
        foreach (var stale in Directory.EnumerateDirectories(folder, "test_data_set_*"))
            Directory.Delete(stale, recursive: true);

        AtomicFile.WriteAllBytes(Path.Combine(folder, ModelFileName), model.ToByteArray());
        for (int n = 0; n < dataSets.Count; n++)
        {
            var setFolder = Path.Combine(folder, "test_data_set_" + n.ToString(CultureInfo.InvariantCulture));
            WriteTensors(setFolder, "input", dataSets[n].Inputs);
            WriteTensors(setFolder, "output", dataSets[n].Outputs);
        }
    }

    /// <summary>Reads a test case whose inputs and outputs are all tensors.</summary>
    /// <exception cref="OnnxFileException">The folder is not a readable test case, or a graph input or output is not a tensor (sequence, map, optional).</exception>
    public static OnnxTestCase Read(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var modelPath = Path.Combine(folder, ModelFileName);
        if (!File.Exists(modelPath))
            throw new OnnxFileException($"'{folder}' is not an ONNX test case: {ModelFileName} is missing");
        var model = OnnxFiles.ReadModel(modelPath);
        var graph = model.Graph ?? throw new OnnxFileException($"'{modelPath}' has no graph");
        var initializerNames = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var feeds = graph.Input.Where(i => !initializerNames.Contains(i.Name)).ToList();

        var sets = new List<TestDataSet>();
        foreach (var setFolder in Directory.EnumerateDirectories(folder, "test_data_set_*")
                     .OrderBy(DataSetNumber))
        {
            sets.Add(new TestDataSet(
                ReadTensors(setFolder, "input", feeds, folder),
                ReadTensors(setFolder, "output", graph.Output, folder)));
        }
        return new OnnxTestCase(Path.GetFullPath(folder), model, sets);
    }

    private static void WriteTensors(string folder, string prefix, IReadOnlyList<NamedTensor> tensors)
    {
        for (int k = 0; k < tensors.Count; k++)
        {
            var path = Path.Combine(folder, $"{prefix}_{k.ToString(CultureInfo.InvariantCulture)}.pb");
            AtomicFile.WriteAllBytes(path, tensors[k].Tensor.ToProto(tensors[k].Name).ToByteArray());
        }
    }

    private static List<NamedTensor> ReadTensors(string folder, string prefix, IList<ValueInfoProto> declared, string caseFolder)
    {
        var result = new List<NamedTensor>();
        for (int k = 0; ; k++)
        {
            var path = Path.Combine(folder, $"{prefix}_{k.ToString(CultureInfo.InvariantCulture)}.pb");
            if (!File.Exists(path)) break;
            if (k < declared.Count && declared[k].Type is { } type && type.ValueCase != TypeProto.ValueOneofCase.TensorType)
                throw new OnnxFileException($"'{path}': graph {prefix} '{declared[k].Name}' is a {type.ValueCase} value; only tensors are supported");
            TensorProto proto;
            try
            {
                using var file = ContainedFiles.OpenRegular(path, "test data");
                proto = TensorProto.Parser.ParseFrom(file);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new OnnxFileException($"'{path}' is not a TensorProto: {e.Message}", e);
            }
            var name = !string.IsNullOrEmpty(proto.Name) ? proto.Name : k < declared.Count ? declared[k].Name : "";
            // onnx's test generators store bfloat16 data as uint16 (numpy has no bfloat16): take the
            // graph's word for the type when only that differs.
            if (k < declared.Count && declared[k].Type?.TensorType is { } tensorType
                && tensorType.ElemType == (int)TensorProto.Types.DataType.Bfloat16 && proto.DataType == (int)TensorProto.Types.DataType.Uint16)
                proto.DataType = (int)TensorProto.Types.DataType.Bfloat16;
            result.Add(new NamedTensor(name, HostTensor.FromProto(proto, caseFolder)));
        }
        return result;
    }

    private static int DataSetNumber(string path) =>
        int.TryParse(Path.GetFileName(path)["test_data_set_".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue;
}
