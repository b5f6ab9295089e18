using System.Diagnostics;
using Google.Protobuf;
using OnnxBridge.Core.Architecture;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Samples.Chapter.Blocks;
using OnnxBridge.Tests.PluginBlocks;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Tests;

[TestClass]
[DoNotParallelize]
public sealed class ExportTests
{
    private static string Plugin => Path.Combine(AppContext.BaseDirectory, "DeepLearningComputation.dll");

    private static string RepoFile(params string[] parts) => RepoFiles.Path(parts);

    [TestMethod]
    public void Export_SpecAndWeights_ToARepository_WithAVerifiedBundle()
    {
        using var temp = new TempFolder();
        random.manual_seed(5);
        var net = Samples.Chapter.Blocks.ChapterNetworks.FirstNet();
        net.Build(InputSpec.Parse("input:float32[batch,20]"));
        StateDicts.Save(net, temp.File("mlp.pt"));

        var (exitCode, output, error) = CliRunner.Run("export", "--model", RepoFile("samples", "architectures", "mlp.json"), "--weights", temp.File("mlp.pt"),
            "--input", "input:float32[batch,20]", "--repository", temp.File("repo"), "--name", "mlp", "--bundle", temp.File("bundle"), "--verify");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        Assert.IsTrue(File.Exists(temp.File("repo/mlp/1/model.onnx")));
        var config = File.ReadAllText(temp.File("repo/mlp/config.pbtxt"));
        StringAssert.Contains(config, "platform: \"onnxruntime_onnx\"\nversion_policy: { all { } }\nmax_batch_size: 64\ninput [\n  {\n    name: \"input\"\n    data_type: TYPE_FP32\n    dims: [ 20 ]");
        StringAssert.Contains(config, "dynamic_batching { }");
        StringAssert.Contains(File.ReadAllText(temp.File("bundle/parity.txt")), "overall: PASS");
        Assert.AreEqual(OnnxBridgeCli.Success, CliRunner.Run("verify", temp.File("bundle")).ExitCode);
        OnnxChecker.AssertValid(temp.File("repo/mlp/1/model.onnx"));
    }

    private static IEnumerable<object[]> ChapterNetworksWithInputs()
    {
        yield return ["sequential", (Func<Core.Blocks.Block>)Samples.Chapter.Blocks.ChapterNetworks.FirstNet, 20L];
        yield return ["mlp", (Func<Core.Blocks.Block>)(() => new Mlp()), 20L];
        yield return ["my-sequential", (Func<Core.Blocks.Block>)(() => new MySequential(new Core.Layers.Linear(256), new Core.Layers.ReLU(), new Core.Layers.Linear(10))), 20L];
        yield return ["fixed-hidden-mlp", (Func<Core.Blocks.Block>)(() => new FixedHiddenMlp()), 20L];
        yield return ["chimera", (Func<Core.Blocks.Block>)Samples.Chapter.Blocks.ChapterNetworks.Chimera, 20L];
        yield return ["rgnet", (Func<Core.Blocks.Block>)Samples.Chapter.Blocks.ChapterNetworks.RgNet, 4L];
        yield return ["tied", (Func<Core.Blocks.Block>)(() => Samples.Chapter.Blocks.ChapterNetworks.TiedNet(out _)), 4L];
        yield return ["centered", (Func<Core.Blocks.Block>)(() => new Core.Blocks.Sequential(new Core.Layers.Linear(128), new CenteredLayer())), 8L];
        yield return ["my-linear", (Func<Core.Blocks.Block>)(() => new Core.Blocks.Sequential(new MyLinear(64, 8), new MyLinear(8, 1))), 64L];
    }

    [TestMethod]
    [DynamicData(nameof(ChapterNetworksWithInputs))]
    public void Export_ChapterNetwork_FromFileAndWeights_GivesTheSameBytesAsExportingFromCode(string name, Func<Core.Blocks.Block> make, long features)
    {
        using var temp = new TempFolder();
        random.manual_seed(6);
        var network = make();
        var input = $"input:float32[batch,{features}]";
        var options = new ExportOptions(InputSpec.Parse(input));
        var fromCode = OnnxExporter.Export(network, options).ToByteArray();
        File.WriteAllText(temp.File("net.json"), ArchitectureJson.ToJson(network));
        StateDicts.Save(network, temp.File("net.safetensors"));
        File.WriteAllBytes(temp.File("weights.onnx"), fromCode);
        // rand_weight is a constant outside the state dict, as in PyTorch: an exported model carries it.
        var weights = name is "fixed-hidden-mlp" or "chimera" ? temp.File("weights.onnx") : temp.File("net.safetensors");

        var (exitCode, output, error) = CliRunner.Run("export", "--model", temp.File("net.json"), "--assembly", Plugin,
            "--weights", weights, "--input", input, "--out", temp.File("net.onnx"));

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        CollectionAssert.AreEqual(fromCode, File.ReadAllBytes(temp.File("net.onnx")), $"{name}: the CLI exported different bytes");
    }

    [TestMethod]
    public void Export_Dtype_Float16_LoadsHalfWeights_ExportsFloat16_AndVerifiesAtFloat16Tolerance()
    {
        using var temp = new TempFolder();
        random.manual_seed(5);
        var net = ChapterNetworks.FirstNet();
        net.Build(InputSpec.Parse("input:float32[batch,20]"));
        StateDicts.Save(net.to(ScalarType.Float16), temp.File("mlp-half.safetensors")); // what PyTorch's net.half() saves

        var (exitCode, output, error) = CliRunner.Run("export", "--model", RepoFile("samples", "architectures", "mlp.json"), "--dtype", "float16",
            "--weights", temp.File("mlp-half.safetensors"), "--input", "input:float16[batch,20]", "--out", temp.File("mlp.onnx"), "--bundle", temp.File("bundle"), "--verify");
        var (verifyCode, verified, _) = CliRunner.Run("verify", temp.File("bundle"));
        var (wrongCode, _, wrongError) = CliRunner.Run("export", "--model", RepoFile("samples", "architectures", "mlp.json"),
            "--weights", temp.File("mlp-half.safetensors"), "--input", "input:float16[batch,20]", "--out", temp.File("wrong.onnx"));

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        StringAssert.Contains(output, "tolerance: |Δ| ≤ 1e-3 + 1e-3·|ref|");
        var model = Onnx.OnnxFiles.ReadModel(temp.File("mlp.onnx"));
        Assert.AreEqual((int)Onnx.Proto.TensorProto.Types.DataType.Float16, model.Graph.Input[0].Type.TensorType.ElemType);
        Assert.IsTrue(model.Graph.Initializer.All(i => i.DataType == (int)Onnx.Proto.TensorProto.Types.DataType.Float16), "float16 weights");
        Assert.AreEqual(OnnxBridgeCli.Success, verifyCode, verified);
        StringAssert.Contains(verified, "tolerance: |Δ| ≤ 1e-3 + 1e-3·|ref|", "verify takes float16's tolerance for float16 outputs");
        OnnxChecker.AssertValid(temp.File("mlp.onnx"));
        Assert.AreEqual(OnnxBridgeCli.BadInput, wrongCode, "float16 weights into a float32 network, without --dtype");
        StringAssert.Contains(wrongError, "expected dtype float32, found float16");
    }

    [TestMethod]
    public void Export_WithExternalDataThreshold_WritesModelAndDataFile_RepositoryStaysWhole()
    {
        using var temp = new TempFolder();

        var (exitCode, output, error) = CliRunner.Run("export", "--model", RepoFile("samples", "architectures", "mlp.json"), "--input", "input:float32[batch,20]",
            "--external-data-threshold", "4096", "--out", temp.File("out/mlp.onnx"), "--repository", temp.File("repo"), "--name", "mlp");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        Assert.AreEqual(1, Directory.GetFiles(temp.File("out"), "mlp.onnx.*.data").Length);
        Assert.AreEqual(0, Directory.GetFiles(temp.File("repo/mlp/1")).Count(f => f.EndsWith(".data", StringComparison.Ordinal)), "the repository copy keeps its weights inline");
        OnnxChecker.AssertValid(temp.File("out/mlp.onnx"), temp.File("repo/mlp/1/model.onnx"));
    }

    [TestMethod]
    public void Export_Json_DescribesWhatWasWrittenAndTheParity()
    {
        using var temp = new TempFolder();

        var (exitCode, output, error) = CliRunner.Run("export", "--model", RepoFile("samples", "architectures", "mlp.json"), "--input", "input:float32[batch,20]",
            "--out", temp.File("mlp.onnx"), "--verify", "--json");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.AreEqual(temp.File("mlp.onnx"), json.RootElement.GetProperty("out").GetString());
        Assert.AreEqual(64, json.RootElement.GetProperty("weightsSha256").GetString()!.Length);
        Assert.IsTrue(json.RootElement.GetProperty("parity").GetProperty("passed").GetBoolean());
        StringAssert.Contains(CliRunner.Run("inspect", temp.File("mlp.onnx")).Output, "metadata:     onnxbridge.parity = PASS: max |Δ| ");
    }

    [TestMethod]
    [DataRow(false, DisplayName = "weights inline")]
    [DataRow(true, DisplayName = "weights in an external data file")]
    public void Export_ToEveryWriter_TracesTheNetworkOnce_AndEachCarriesTheParityRecord(bool externalData)
    {
        using var temp = new TempFolder();
        TraceCounting.ResetTraces();
        string[] args = ["export", "--type", typeof(TraceCounting).FullName!, "--assembly", Path.Combine(AppContext.BaseDirectory, "PluginBlocks.dll"),
            "--input", "x:float32[batch,4]", "--out", temp.File("net.onnx"), "--bundle", temp.File("bundle"), "--repository", temp.File("repo"), "--name", "net", "--verify"];

        var (exitCode, output, error) = CliRunner.Run(externalData ? [.. args, "--external-data-threshold", "0"] : args);

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        Assert.AreEqual(1, TraceCounting.Traces, "symbolic forwards of the network");
        Assert.AreEqual(externalData, Directory.GetFiles(temp.Path, "net.onnx.*.data").Length == 1);
        var hashes = new List<string>();
        foreach (var path in new[] { temp.File("net.onnx"), temp.File("bundle/model.onnx"), temp.File("repo/net/1/model.onnx") })
        {
            var metadata = Onnx.OnnxFiles.ReadModel(path).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
            StringAssert.StartsWith(metadata[ExportCommandParityKey], "PASS: max |Δ| ", path);
            hashes.Add(metadata[OnnxExporter.WeightsHashKey]);
        }
        Assert.AreEqual(1, hashes.Distinct().Count(), "one export: one weights hash in every file");
        Assert.AreEqual(OnnxBridgeCli.Success, CliRunner.Run("verify", temp.File("bundle")).ExitCode);
    }

    [TestMethod]
    public void Export_BlockWithThreeOutputs_NamesEach_AndEveryWriterAndCheckHasThem()
    {
        using var temp = new TempFolder();

        var (exitCode, output, error) = CliRunner.Run("export", "--type", typeof(TwoHeads).FullName!, "--assembly", Path.Combine(AppContext.BaseDirectory, "PluginBlocks.dll"),
            "--input", "x:float32[batch,4]", "--output-name", "probabilities", "--output-name", "score", "--output-name", "features",
            "--out", temp.File("heads.onnx"), "--bundle", temp.File("bundle"), "--repository", temp.File("repo"), "--name", "heads", "--verify");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        var inspect = CliRunner.Run("inspect", temp.File("heads.onnx")).Output;
        foreach (var line in new[] { "output:       probabilities: float32[batch, 3]", "output:       score: float32[batch, 1]", "output:       features: float32[batch, 8]" })
            StringAssert.Contains(inspect, line);
        StringAssert.Contains(File.ReadAllText(temp.File("repo/heads/config.pbtxt")), "name: \"features\"");
        var verify = CliRunner.Run("verify", temp.File("bundle"));
        Assert.AreEqual(OnnxBridgeCli.Success, verify.ExitCode, verify.Output);
        StringAssert.Contains(verify.Output, "features");
    }

    [TestMethod]
    public void Export_BundleWithoutOut_RecordsTheParityInTheBundlesModel()
    {
        using var temp = new TempFolder();

        var (exitCode, output, error) = CliRunner.Run("export", "--model", RepoFile("samples", "architectures", "mlp.json"), "--input", "input:float32[batch,20]",
            "--bundle", temp.File("bundle"));

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        StringAssert.Contains(CliRunner.Run("inspect", temp.File("bundle/model.onnx")).Output, "metadata:     onnxbridge.parity = PASS: max |Δ| ");
        Assert.AreEqual(OnnxBridgeCli.Success, CliRunner.Run("verify", temp.File("bundle")).ExitCode, "the record does not change what the bundle checks");
    }

    private const string ExportCommandParityKey = "onnxbridge.parity";

    [TestMethod]
    public void Export_TwoInputPluginBlock_WithTwoInputs_PassesParity()
    {
        using var temp = new TempFolder();
        var plugin = Path.Combine(AppContext.BaseDirectory, "PluginBlocks.dll");

        var (exitCode, output, error) = CliRunner.Run("export", "--type", "OnnxBridge.Tests.PluginBlocks.TwoTowers", "--assembly", plugin,
            "--input", "left:float32[batch,4]", "--input", "right:float32[batch,3]", "--out", temp.File("towers.onnx"),
            "--repository", temp.File("repo"), "--name", "towers", "--bundle", temp.File("bundle"), "--verify");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        StringAssert.Contains(output, "overall: PASS");
        var config = File.ReadAllText(temp.File("repo/towers/config.pbtxt"));
        StringAssert.Contains(config, "name: \"left\"");
        StringAssert.Contains(config, "name: \"right\"");
        OnnxChecker.AssertValid(temp.File("towers.onnx"));
    }

    [TestMethod]
    public void Export_TypeFromAPlugin_WithSeededInitialization()
    {
        using var temp = new TempFolder();

        var (exitCode, output, error) = CliRunner.Run("export", "--type", typeof(Mlp).FullName!, "--assembly", Plugin,
            "--input", "x:float32[batch,20]", "--seed", "7", "--out", temp.File("a.onnx"));
        CliRunner.Run("export", "--type", typeof(Mlp).FullName!, "--assembly", Plugin, "--input", "x:float32[batch,20]", "--seed", "7", "--out", temp.File("b.onnx"));

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        CollectionAssert.AreEqual(File.ReadAllBytes(temp.File("a.onnx")), File.ReadAllBytes(temp.File("b.onnx")), "the same seed gives the same model");
    }

    [TestMethod]
    [DataRow(new[] { "--input", "input:float32[batch,20]", "--out", "x.onnx" }, "give exactly one of --model (an architecture file), --type (a type in a plugin assembly) and --onnx")]
    [DataRow(new[] { "--model", "mlp.json", "--out", "x.onnx" }, "give --input name:dtype[dims] (once per graph input, in the order the forward takes them)")]
    [DataRow(new[] { "--model", "mlp.json", "--input", "a:float32[batch,20]", "--input", "b:float32[batch,20]", "--out", "x.onnx" }, "Sequential takes one input, but 2 were declared; a block with several inputs derives from MultiInputBlock")]
    [DataRow(new[] { "--model", "mlp.json", "--input", "input:float32[batch,20]" }, "say where the model goes: --out, --repository or --bundle")]
    [DataRow(new[] { "--model", "mlp.json", "--input", "input[batch]", "--out", "x.onnx" }, "input spec 'input[batch]' is not of the form name:dtype[dim,...]")]
    [DataRow(new[] { "--model", "chimera.json", "--input", "input:float32[batch,20]", "--out", "x.onnx" }, "unknown block type 'OnnxBridge.Samples.Chapter.Blocks.NestMlp'")]
    [DataRow(new[] { "--type", "Nope.Block", "--input", "input:float32[batch,20]", "--out", "x.onnx" }, "type 'Nope.Block' was not found in any assembly (give --assembly)")]
    [DataRow(new[] { "--model", "mlp.json", "--input", "input:float32[batch,20]", "--weights", "missing.pt", "--out", "x.onnx" }, "missing.pt")]
    [DataRow(new[] { "--model", "mlp.json", "--input", "input:float32[batch,20]", "--repository", "repo", "--out", "x.onnx" }, "--repository needs --name")]
    public void Export_BadInvocations_FailWithExitCodeTwoAndAReason(string[] args, string expected)
    {
        using var temp = new TempFolder();
        var resolved = args.Select(a => a switch
        {
            "mlp.json" => RepoFile("samples", "architectures", "mlp.json"),
            "chimera.json" => RepoFile("samples", "architectures", "chimera.json"),
            "x.onnx" or "missing.pt" or "repo" => temp.File(a),
            _ => a,
        }).ToArray();

        var (exitCode, _, error) = CliRunner.Run(["export", .. resolved]);

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode, error);
        StringAssert.Contains(error, expected);
    }

    [TestMethod]
    public void Export_SpecAndWeightsAsSeparateProcess_ThenVerify()
    {
        using var temp = new TempFolder();
        var program = Path.Combine(AppContext.BaseDirectory, "onnxbridge.dll");

        var tied = Samples.Chapter.Blocks.ChapterNetworks.TiedNet(out _);
        tied.Build(InputSpec.Parse("input:float32[batch,4]"));
        StateDicts.Save(tied, temp.File("tied.pt"));

        var export = RunProcess(program, "export", "--model", RepoFile("samples", "architectures", "tied.json"), "--weights", temp.File("tied.pt"),
            "--input", "input:float32[batch,4]", "--repository", temp.File("repo"), "--name", "tied", "--bundle", temp.File("bundle"), "--verify");
        var verify = RunProcess(program, "verify", temp.File("bundle"));

        Assert.AreEqual(0, export.ExitCode, export.Output);
        Assert.AreEqual(0, verify.ExitCode, verify.Output);
        Assert.IsTrue(File.Exists(temp.File("repo/tied/config.pbtxt")));
        StringAssert.Contains(verify.Output, "verify: 1 passed, 0 failed, 0 could not run");
    }

    private static (int ExitCode, string Output) RunProcess(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
