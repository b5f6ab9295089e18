using Google.Protobuf;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Tests.PluginBlocks;
using OnnxBridge.Tests.Shared;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Cli.Tests;

/// <summary>
/// One error model for every command: bad input is one line on stderr and exit code 2, a check
/// that ran and failed is 1, an exception OnnxBridge did not expect is 3 with its stack trace.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ErrorModelTests
{
    private static string PluginBlocks => Path.Combine(AppContext.BaseDirectory, "PluginBlocks.dll");

    [TestMethod]
    public void Inspect_InitializerWithDataType999_IsBadInputNamingIt()
    {
        using var temp = new TempFolder();
        var model = TinyModel();
        model.Graph.Initializer.Add(new TensorProto { Name = "w", DataType = 999, Dims = { 2 } });
        File.WriteAllBytes(temp.File("odd.onnx"), model.ToByteArray());

        AssertBadInput(CliRunner.Run("inspect", temp.File("odd.onnx")), "tensor 'w' has unknown data_type 999");
    }

    [TestMethod]
    public void Verify_TestDataClaiming2Pow62Elements_IsACaseThatCouldNotRun()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("model.onnx"), TinyModel().ToByteArray());
        Directory.CreateDirectory(temp.File("test_data_set_0"));
        File.WriteAllBytes(temp.File("test_data_set_0/input_0.pb"), new TensorProto { Name = "x", DataType = (int)DataType.Float, Dims = { 1L << 31, 1L << 31 } }.ToByteArray());

        var (exitCode, output, error) = CliRunner.Run("verify", temp.Path);

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode, output + error);
        StringAssert.Contains(output, "OnnxFileException: tensor 'x' float32[2147483648, 2147483648] would need");
        StringAssert.Contains(output, "verify: 0 passed, 0 failed, 1 could not run");
        AssertNoStackTrace(output + error);
    }

    [TestMethod]
    public void Export_ArchitectureWithFormat5_IsBadInput()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("net.json"), "{\"format\": 5, \"version\": 1, \"root\": {\"type\": \"ReLU\"}}");

        AssertBadInput(CliRunner.Run("export", "--model", temp.File("net.json"), "--input", "x:float32[1,4]", "--out", temp.File("net.onnx")),
            "not an architecture file: the top-level object must have \"format\": \"onnxbridge.architecture\"");
    }

    [TestMethod]
    public void TrainResume_CorruptCheckpoint_IsBadInputNamingTheFile()
    {
        using var temp = new TempFolder();
        var data = TrainTests.WriteCsv(temp, rows: 60);
        Directory.CreateDirectory(temp.File("out/checkpoints"));
        File.WriteAllBytes(temp.File("out/checkpoints/epoch-0001.ckpt"), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

        var result = CliRunner.Run("train", "--data", data, "--preset", "mlp", "--epochs", "2", "--out", temp.File("out"), "--resume");

        AssertBadInput(result, temp.File("out/checkpoints/epoch-0001.ckpt"));
    }

    [TestMethod]
    public void UnknownOption_IsBadInput()
    {
        AssertBadInput(CliRunner.Run("inspect", "model.onnx", "--frobnicate"), "--frobnicate");
    }

    [TestMethod]
    public void UnexpectedException_IsAnInternalErrorWithItsStackTrace()
    {
        using var temp = new TempFolder();

        var (exitCode, output, error) = CliRunner.Run("export", "--type", typeof(Buggy).FullName!, "--assembly", PluginBlocks,
            "--input", "x:float32[1,4]", "--out", temp.File("buggy.onnx"));

        Assert.AreEqual(OnnxBridgeCli.InternalError, exitCode, output + error);
        StringAssert.StartsWith(error, "internal error (a bug in OnnxBridge; please report it with what you ran): System.InvalidOperationException: the plugin's own bug");
        StringAssert.Contains(error, "   at ");
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void Verify_EndlessLoop_IsStoppedAtTheTimeout()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("model.onnx"), EndlessLoop().ToByteArray());
        Directory.CreateDirectory(temp.File("test_data_set_0"));
        File.WriteAllBytes(temp.File("test_data_set_0/input_0.pb"), Onnx.Tensors.HostTensor.Create<float>([1f], 1).ToProto("x").ToByteArray());
        File.WriteAllBytes(temp.File("test_data_set_0/output_0.pb"), Onnx.Tensors.HostTensor.Create<float>([1f], 1).ToProto("y").ToByteArray());

        var (exitCode, output, error) = CliRunner.Run("verify", temp.Path, "--timeout", "1");

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode, output + error);
        StringAssert.Contains(output, "did not finish within 1 s and was stopped");
        AssertNoStackTrace(output + error);
    }

    [TestMethod]
    public void ExitCodes_AreDocumentedInTheReadmeAndTheHelp()
    {
        var readme = File.ReadAllText(RepoFiles.Path("README.md"));
        var help = CliRunner.Run("--help").Output;

        foreach (var (code, meaning) in new[] { (0, "success"), (1, "a check ran and failed"), (2, "bad input"), (3, "internal error") })
        {
            StringAssert.Contains(readme, $"| {code} | {meaning}", $"README's exit-code table row for {code}");
            StringAssert.Contains(help, $"{code} {meaning}");
        }
    }

    private static void AssertBadInput((int ExitCode, string Output, string Error) result, string expected)
    {
        Assert.AreEqual(OnnxBridgeCli.BadInput, result.ExitCode, result.Output + result.Error);
        StringAssert.StartsWith(result.Error, "error: ");
        StringAssert.Contains(result.Error, expected);
        AssertNoStackTrace(result.Output + result.Error);
    }

    private static void AssertNoStackTrace(string text) =>
        Assert.IsFalse(text.Contains("   at ", StringComparison.Ordinal), "printed a stack trace:\n" + text);

    /// <summary>y = Relu(x), x float32[1].</summary>
    private static ModelProto TinyModel()
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(Value("x"));
        graph.Output.Add(Value("y"));
        graph.Node.Add(new NodeProto { OpType = "Relu", Input = { "x" }, Output = { "y" } });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        return model;
    }

    /// <summary>A Loop with no trip count whose condition stays true: y never comes.</summary>
    private static ModelProto EndlessLoop()
    {
        var body = new GraphProto { Name = "body" };
        body.Input.Add(new ValueInfoProto { Name = "i", Type = Tensor(DataType.Int64) });
        body.Input.Add(new ValueInfoProto { Name = "cond_in", Type = Tensor(DataType.Bool) });
        body.Input.Add(Value("v_in"));
        body.Output.Add(new ValueInfoProto { Name = "cond_out", Type = Tensor(DataType.Bool) });
        body.Output.Add(Value("v_out"));
        body.Node.Add(new NodeProto { OpType = "Identity", Input = { "cond_in" }, Output = { "cond_out" } });
        body.Node.Add(new NodeProto { OpType = "Identity", Input = { "v_in" }, Output = { "v_out" } });

        var graph = new GraphProto { Name = "endless" };
        graph.Input.Add(Value("x"));
        graph.Output.Add(Value("y"));
        graph.Initializer.Add(new TensorProto { Name = "true", DataType = (int)DataType.Bool, Int32Data = { 1 } });
        var loop = new NodeProto { OpType = "Loop", Input = { "", "true", "x" }, Output = { "y" } };
        loop.Attribute.Add(new AttributeProto { Name = "body", Type = AttributeProto.Types.AttributeType.Graph, G = body });
        graph.Node.Add(loop);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        return model;
    }

    private static ValueInfoProto Value(string name)
    {
        var type = Tensor(DataType.Float);
        type.TensorType.Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = 1 } } };
        return new ValueInfoProto { Name = name, Type = type };
    }

    /// <summary>A scalar of <paramref name="type"/>.</summary>
    private static TypeProto Tensor(DataType type) => new() { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto() } };
}
