using System.Text.Json;
using Microsoft.Extensions.Configuration;
using OnnxBridge.Host.Repository;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Host.Tests;

[TestClass]
public sealed class ConfigAndPackagingTests
{
    [TestMethod]
    public void ModelConfig_TritonTextFormat_ReadsBatchingAndIgnoresTheRest()
    {
        using var temp = new TempFolder();
        var path = temp.File("config.pbtxt");
        File.WriteAllText(path, """
            # a Triton config as people write them
            name: "digits"
            platform: "onnxruntime_onnx"
            max_batch_size: 32
            input [ { name: "pixels", data_type: TYPE_FP32, dims: [ 64 ] } ]
            output [
              { name: "logits" data_type: TYPE_FP32 dims: [ 10 ] }
            ]
            instance_group [ { count: 2, kind: KIND_CPU } ]
            dynamic_batching {
              preferred_batch_size: [ 4, 8 ]
              max_queue_delay_microseconds: 250
            }
            parameters { key: "x" value: { string_value: "y" } }
            """);

        var config = ModelConfig.Read(path);

        Assert.AreEqual(new ModelConfig(32, true, TimeSpan.FromMicroseconds(250)), config);
        Assert.AreEqual(ModelConfig.Default, ModelConfig.Read(temp.File("missing.pbtxt")));
    }

    [TestMethod]
    [DataRow("max_batch_size: 8\nplatform: \"tensorrt_plan\"", "platform 'tensorrt_plan' is not served here")]
    [DataRow("max_batch_size: eight", "max_batch_size 'eight' is not an integer")]
    [DataRow("dynamic_batching { max_queue_delay_microseconds: 5", "line 1: missing '}'")]
    [DataRow("input [ { name: \"x\" ", "line 1: missing '}'")]
    [DataRow("max_batch_size 8", "line 1: expected ':' or '{' after 'max_batch_size'")]
    [DataRow("version_policy: { latest { num_versions: 0 } }", "version_policy latest num_versions must be positive, got 0")]
    [DataRow("version_policy: { specific { versions: [1, two] } }", "version_policy specific version 'two' is not a positive integer")]
    [DataRow("version_policy: { newest { } }", "version_policy must hold latest, all or specific")]
    [DataRow("default_model_filename: \"../model.onnx\"", "default_model_filename '../model.onnx' must be a plain file name")]
    public void ModelConfig_BadFile_NamesFileAndProblem(string text, string expected)
    {
        using var temp = new TempFolder();
        var path = temp.File("config.pbtxt");
        File.WriteAllText(path, text);

        var error = Assert.ThrowsExactly<FormatException>(() => ModelConfig.Read(path));

        StringAssert.StartsWith(error.Message, path + ": ");
        StringAssert.Contains(error.Message, expected);
    }

    [TestMethod]
    public void TextProto_DeepNesting_IsRefused()
    {
        var error = Assert.ThrowsExactly<FormatException>(() => TextProto.Parse(string.Concat(Enumerable.Repeat("a { ", 100))));

        StringAssert.Contains(error.Message, "nesting deeper than 32");
    }

    [TestMethod]
    public void HostSettings_CommandLine_ParsesAndRefusesBadValues()
    {
        HostSettings Parse(params string[] args) => HostSettings.From(new ConfigurationBuilder().AddCommandLine(args).Build());

        var settings = Parse("--repository", "r", "--port", "9000", "--ep", "auto", "--dynamic-batching", "off", "--max-queue-delay-us", "100", "--intra-op-threads", "2");
        var tuned = Parse("--repository", "r", "--inter-op-threads", "3", "--execution-mode", "parallel", "--spinning", "off", "--graph-optimization", "basic", "--tf32", "on", "--device-id", "1");

        Assert.AreEqual(("r", 9000, ExecutionProviderPolicy.Auto, false, TimeSpan.FromMicroseconds(100), 2, "127.0.0.1"),
            (settings.Repository, settings.Port, settings.Runtime.Policy, settings.DynamicBatching, settings.MaxQueueDelay, settings.Runtime.IntraOpThreads, settings.Address));
        Assert.AreEqual(new OnnxRuntimeOptions { IntraOpThreads = 1, InterOpThreads = 3, ParallelExecution = true, Spinning = false, Optimization = GraphOptimization.Basic, Tf32 = true, DeviceId = 1 }, tuned.Runtime);
        Assert.AreEqual(new OnnxRuntimeOptions { IntraOpThreads = 1 }, Parse("--repository", "r").Runtime, "one intra-op thread by default, ONNX Runtime's defaults otherwise");
        Assert.AreEqual("give --repository DIR (a model repository in Triton's layout: DIR/NAME/VERSION/model.onnx)", Assert.ThrowsExactly<ArgumentException>(() => Parse("--port", "1")).Message);
        Assert.AreEqual("--port '70000' is not an integer in [0, 65535]", Assert.ThrowsExactly<ArgumentException>(() => Parse("--repository", "r", "--port", "70000")).Message);
        Assert.AreEqual("--ep 'tpu' is not cpu, cuda or auto", Assert.ThrowsExactly<ArgumentException>(() => Parse("--repository", "r", "--ep", "tpu")).Message);
        Assert.AreEqual("--spinning 'sometimes' is not on or off", Assert.ThrowsExactly<ArgumentException>(() => Parse("--repository", "r", "--spinning", "sometimes")).Message);
        Assert.AreEqual("--graph-optimization 'max' is not disabled, basic, extended or all", Assert.ThrowsExactly<ArgumentException>(() => Parse("--repository", "r", "--graph-optimization", "max")).Message);
    }

    [TestMethod]
    public void HostDependencies_CarryOnnxRuntimeButNoTorchSharp()
    {
        var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "OnnxBridge.Host.deps.json")));
        var libraries = deps.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToList();

        Assert.IsTrue(libraries.Any(l => l.StartsWith("Microsoft.ML.OnnxRuntime.Gpu.Linux/", StringComparison.Ordinal)), string.Join(", ", libraries));
        var torch = libraries.Where(l => l.Contains("torch", StringComparison.OrdinalIgnoreCase) || l.StartsWith("OnnxBridge.Core/", StringComparison.Ordinal)).ToList();
        Assert.AreEqual(0, torch.Count, "the host must not depend on TorchSharp: " + string.Join(", ", torch));
    }
}
