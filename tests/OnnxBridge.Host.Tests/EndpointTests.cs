using System.Net;
using System.Text.Json.Nodes;

namespace OnnxBridge.Host.Tests;

/// <summary>Every Open Inference Protocol endpoint against a real Kestrel server on loopback.</summary>
[TestClass]
[DoNotParallelize]
public sealed class EndpointTests
{
    [TestMethod]
    public async Task Health_And_ServerMetadata()
    {
        await using var server = await TestServer.StartAsync();

        var live = await server.GetAsync("/v2/health/live");
        var ready = await server.GetAsync("/v2/health/ready");
        var metadata = await server.GetAsync("/v2");

        Assert.AreEqual((200, true), (live.Status, live.Body!["live"]!.GetValue<bool>()));
        Assert.AreEqual((200, true), (ready.Status, ready.Body!["ready"]!.GetValue<bool>()));
        Assert.AreEqual("onnxbridge", metadata.Body!["name"]!.GetValue<string>());
        CollectionAssert.AreEquivalent(new[] { "binary_tensor_data", "model_repository", "model_configuration", "statistics" }, metadata.Body["extensions"]!.AsArray().Select(e => e!.GetValue<string>()).ToArray());
    }

    [TestMethod]
    public async Task ModelMetadata_DefaultAndVersioned_DescribesTensorsAndProvider()
    {
        await using var server = await TestServer.StartAsync();

        var all = await server.GetAsync("/v2/models/mlp");
        var one = await server.GetAsync("/v2/models/mlp/versions/1");

        Assert.AreEqual(200, all.Status);
        CollectionAssert.AreEqual(new[] { "1", "2" }, all.Body!["versions"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray());
        Assert.AreEqual("onnxruntime_onnx", all.Body["platform"]!.GetValue<string>());
        Assert.AreEqual("""{"name":"input","datatype":"FP32","shape":[-1,8]}""", all.Body["inputs"]![0]!.ToJsonString());
        Assert.AreEqual("""{"name":"output","datatype":"FP32","shape":[-1,3]}""", all.Body["outputs"]![0]!.ToJsonString());
        Assert.AreEqual("CPUExecutionProvider", all.Body["parameters"]!["execution_provider"]!.GetValue<string>());
        Assert.IsTrue(all.Body["parameters"]!["dynamic_batching"]!.GetValue<bool>());
        CollectionAssert.AreEqual(new[] { "1" }, one.Body!["versions"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray());
    }

    [TestMethod]
    public async Task ThreeOutputModel_DescribesEach_AndGivesAllOrTheRequestedOnes()
    {
        await using var server = await TestServer.StartAsync();
        const string input = """{"name":"x","shape":[2,4],"datatype":"FP32","data":[0.1,0.2,0.3,0.4,-1,0,1,2]}""";

        var metadata = await server.GetAsync("/v2/models/heads");
        var all = await server.PostAsync("/v2/models/heads/infer", $$"""{"inputs":[{{input}}]}""");
        var one = await server.PostAsync("/v2/models/heads/infer", $$"""{"inputs":[{{input}}],"outputs":[{"name":"score"}]}""");

        CollectionAssert.AreEqual(new[] { "probabilities", "score", "features" }, metadata.Body!["outputs"]!.AsArray().Select(o => o!["name"]!.GetValue<string>()).ToArray());
        Assert.AreEqual(200, all.Status, all.Body?.ToJsonString());
        CollectionAssert.AreEqual(new[] { "[2,3]", "[2,1]", "[2,8]" }, all.Body!["outputs"]!.AsArray().Select(o => o!["shape"]!.ToJsonString()).ToArray());
        var probabilities = all.Body["outputs"]![0]!["data"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.AreEqual(1.0, probabilities[..3].Sum(), 1e-5, "softmax rows sum to 1");
        Assert.AreEqual(200, one.Status, one.Body?.ToJsonString());
        Assert.AreEqual("score", one.Body!["outputs"]!.AsArray().Single()!["name"]!.GetValue<string>());
    }

    [TestMethod]
    public async Task EverydayNetworks_AreServed()
    {
        // The networks Core.Tests/EverydayNetworkTests trains, reloads, exports and verifies.
        (string Name, OnnxBridge.Core.Blocks.Block Net, Core.Values.InputSpec Input, string Data)[] networks =
        [
            ("resnet", OnnxBridge.Tests.PluginBlocks.EverydayNetworks.SmallResNet(), OnnxBridge.Tests.PluginBlocks.EverydayNetworks.ImageInput, string.Join(",", Enumerable.Range(0, 64).Select(i => (i % 7) / 7.0))),
            ("text_cnn", new OnnxBridge.Tests.PluginBlocks.TextCnn(), OnnxBridge.Tests.PluginBlocks.EverydayNetworks.TokenInput, "3,1,4,1,5,9,2,6,5,3,5,0"),
            ("gelu_mlp", OnnxBridge.Tests.PluginBlocks.EverydayNetworks.GeluLayerNormMlp(), OnnxBridge.Tests.PluginBlocks.EverydayNetworks.FeatureInput, string.Join(",", Enumerable.Range(0, 20).Select(i => i / 10.0))),
        ];
        await using var server = await TestServer.StartAsync(addModels: repository =>
        {
            foreach (var (name, net, input, _) in networks)
                OnnxBridge.Onnx.Repository.ModelRepository.Write(repository, name, 1, Core.Export.OnnxExporter.Export(net, new Core.Export.ExportOptions(input)), maxBatchSize: 8);
        });

        foreach (var (name, _, input, data) in networks)
        {
            var shape = "[1," + string.Join(",", input.Shape.Skip(1).Select(d => d.Size)) + "]";
            var datatype = input.ElementType == OnnxBridge.Onnx.Proto.TensorProto.Types.DataType.Int64 ? "INT64" : "FP32";
            var response = await server.PostAsync($"/v2/models/{name}/infer", $$"""{"inputs":[{"name":"{{input.Name}}","shape":{{shape}},"datatype":"{{datatype}}","data":[{{data}}]}]}""");

            Assert.AreEqual(200, response.Status, $"{name}: {response.Body?.ToJsonString()}");
            Assert.AreEqual(name == "text_cnn" ? "[1,4]" : "[1,10]", response.Body!["outputs"]![0]!["shape"]!.ToJsonString(), name);
        }
    }

    [TestMethod]
    [DataRow("/v2/models/mlp/ready", 200)]
    [DataRow("/v2/models/mlp/versions/2/ready", 200)]
    [DataRow("/v2/models/mlp/versions/7/ready", 404)]
    [DataRow("/v2/models/nope/ready", 404)]
    [DataRow("/v2/models/broken/ready", 503)]
    [DataRow("/v2/models/nope", 404)]
    [DataRow("/v2/models/mlp/versions/x", 400)]
    public async Task ModelReadyAndMetadata_StatusCodes(string path, int expected)
    {
        await using var server = await TestServer.StartAsync();

        var (status, body) = await server.GetAsync(path);

        Assert.AreEqual(expected, status, body?.ToJsonString());
        if (expected == 200) Assert.IsTrue(body!["ready"]!.GetValue<bool>());
        else Assert.IsFalse(string.IsNullOrEmpty(body!["error"]!.GetValue<string>()));
    }

    [TestMethod]
    public async Task Infer_Json_MatchesDirectOnnxRuntimeRun_LatestVersionByDefault()
    {
        await using var server = await TestServer.StartAsync();
        var rows = Requests.Rows(5, seed: 1);

        var latest = await server.PostAsync("/v2/models/mlp/infer", Requests.Json(rows, 5, id: "req-7"));
        var first = await server.PostAsync("/v2/models/mlp/versions/1/infer", Requests.Json(rows, 5));

        Assert.AreEqual(200, latest.Status, latest.Body?.ToJsonString());
        Assert.AreEqual("2", latest.Body!["model_version"]!.GetValue<string>());
        Assert.AreEqual("req-7", latest.Body["id"]!.GetValue<string>());
        Assert.AreEqual("[5,3]", latest.Body["outputs"]![0]!["shape"]!.ToJsonString());
        CollectionAssert.AreEqual(Requests.Direct(server.Version2, rows, 5), Requests.Floats(latest.Body));
        CollectionAssert.AreEqual(Requests.Direct(server.Version1, rows, 5), Requests.Floats(first.Body));
        CollectionAssert.AreNotEqual(Requests.Floats(first.Body), Requests.Floats(latest.Body), "the two versions have different weights");
    }

    [TestMethod]
    public async Task Infer_NestedJsonData_IsFlattenedRowMajor()
    {
        await using var server = await TestServer.StartAsync();
        var rows = Requests.Rows(2, seed: 2);
        var nested = $"[[{string.Join(",", rows[..8])}],[{string.Join(",", rows[8..])}]]";
        var json = $$"""{"inputs":[{"name":"input","shape":[2,8],"datatype":"FP32","data":{{nested.Replace(",", ", ", StringComparison.Ordinal)}}}]}""";

        var (status, body) = await server.PostAsync("/v2/models/plain/infer", json.Replace(", ", ",", StringComparison.Ordinal));

        Assert.AreEqual(200, status, body?.ToJsonString());
        CollectionAssert.AreEqual(Requests.Direct(server.Version1, rows, 2), Requests.Floats(body));
    }

    [TestMethod]
    public async Task Infer_BinaryInputAndOutput_MatchesJson()
    {
        await using var server = await TestServer.StartAsync();
        var rows = Requests.Rows(3, seed: 3);
        var binary = new byte[rows.Length * 4];
        Buffer.BlockCopy(rows, 0, binary, 0, binary.Length);
        var header = """{"inputs":[{"name":"input","shape":[3,8],"datatype":"FP32","parameters":{"binary_data_size":96}}],"outputs":[{"name":"output","parameters":{"binary_data":true}}]}""";

        var (status, body, jsonLength) = await server.PostBinaryAsync("/v2/models/mlp/infer", header, binary);

        Assert.AreEqual(200, status, System.Text.Encoding.UTF8.GetString(body));
        Assert.IsNotNull(jsonLength);
        var json = JsonNode.Parse(body.AsSpan(0, (int)jsonLength!.Value))!;
        Assert.AreEqual(36L, json["outputs"]![0]!["parameters"]!["binary_data_size"]!.GetValue<long>());
        var values = new float[9];
        Buffer.BlockCopy(body, (int)jsonLength.Value, values, 0, 36);
        CollectionAssert.AreEqual(Requests.Direct(server.Version2, rows, 3), values);
        Assert.AreEqual(jsonLength.Value + 36, body.Length);
    }

    [TestMethod]
    public async Task Infer_BinaryDataOutputRequestParameter_AppliesToEveryOutput()
    {
        await using var server = await TestServer.StartAsync();
        var rows = Requests.Rows(1, seed: 4);

        using var response = await server.Client.PostAsync("/v2/models/mlp/infer",
            new StringContent(Requests.Json(rows, 1, extra: ",\"parameters\":{\"binary_data_output\":true}"), System.Text.Encoding.UTF8, "application/json"));
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("application/octet-stream", response.Content.Headers.ContentType!.MediaType);
        var jsonLength = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var values = new float[3];
        Buffer.BlockCopy(bytes, jsonLength, values, 0, 12);
        CollectionAssert.AreEqual(Requests.Direct(server.Version2, rows, 1), values);
    }

    [TestMethod]
    public async Task Infer_EveryDatatype_RoundTripsThroughIdentityModels()
    {
        await using var server = await TestServer.StartAsync();
        var values = new Dictionary<string, string>
        {
            ["BOOL"] = "true,false,true", ["UINT8"] = "0,7,255", ["UINT16"] = "0,7,65535", ["UINT32"] = "0,7,4294967295",
            ["UINT64"] = "0,7,18446744073709551615", ["INT8"] = "-128,0,127", ["INT16"] = "-32768,0,32767", ["INT32"] = "-2147483648,0,2147483647",
            ["INT64"] = "-9223372036854775808,0,9223372036854775807", ["FP16"] = "-2.5,0,65504", ["FP32"] = "-1.5,0,3.25", ["FP64"] = "-1.5,0,1E+300",
        };
        foreach (var type in TestRepository.IdentityTypes)
        {
            var datatype = Protocol.Datatypes.NameOf(type)!;
            var json = $$"""{"inputs":[{"name":"x","shape":[1,3],"datatype":"{{datatype}}","data":[{{values[datatype]}}]}]}""";

            var (status, body) = await server.PostAsync($"/v2/models/identity_{TestRepository.Name(type)}/infer", json);

            Assert.AreEqual(200, status, $"{datatype}: {body?.ToJsonString()}");
            Assert.AreEqual(datatype, body!["outputs"]![0]!["datatype"]!.GetValue<string>());
            Assert.AreEqual($"[{values[datatype]}]", body["outputs"]![0]!["data"]!.ToJsonString(), datatype);
        }
    }

    [TestMethod]
    public async Task Infer_Fp16Output_IsWrittenAsJsonNumbersAndAsBinary()
    {
        await using var server = await TestServer.StartAsync();

        var json = await server.PostAsync("/v2/models/to_fp16/infer", """{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[0.1,1,-3]}]}""");
        var binary = await server.PostBinaryAsync("/v2/models/to_fp16/infer",
            """{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[0.1,1,-3]}],"outputs":[{"name":"y","parameters":{"binary_data":true}}]}""", []);

        Assert.AreEqual("FP16", json.Body!["outputs"]![0]!["datatype"]!.GetValue<string>());
        CollectionAssert.AreEqual(new[] { (float)(Half)0.1f, 1f, -3f }, Requests.Floats(json.Body));
        var halves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(binary.Body.AsSpan((int)binary.JsonLength!.Value, 6)).ToArray();
        CollectionAssert.AreEqual(new[] { (Half)0.1f, (Half)1f, (Half)(-3f) }, halves);
    }
}
