using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;

namespace OnnxBridge.Host.Tests;

/// <summary>What Triton's clients and tools rely on beyond the core protocol: version_policy, default_model_filename, the config endpoint, compressed bodies.</summary>
[TestClass]
[DoNotParallelize]
public sealed class TritonParityTests
{
    [TestMethod]
    [DataRow("version_policy: { specific { versions: [1] } }", new[] { "1" })]
    [DataRow("version_policy: { latest { num_versions: 1 } }", new[] { "2" })]
    [DataRow("version_policy: { latest { num_versions: 2 } }", new[] { "1", "2" })]
    [DataRow("version_policy: { all { } }", new[] { "1", "2" })]
    [DataRow("", new[] { "2" })]
    public async Task VersionPolicy_DecidesWhichVersionFoldersAreServed(string policy, string[] served)
    {
        await using var server = await TestServer.StartAsync(addModels: repository => Copy(repository, "mlp", "pinned", policy));

        var (status, metadata) = await server.GetAsync("/v2/models/pinned");
        var versionOne = await server.PostAsync("/v2/models/pinned/versions/1/infer", Requests.Json(Requests.Rows(1, seed: 1), 1));

        Assert.AreEqual(200, status, metadata?.ToJsonString());
        CollectionAssert.AreEqual(served, metadata!["versions"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray());
        Assert.AreEqual(served.Contains("1") ? 200 : 404, versionOne.Status, "a version the policy leaves out is not served");
    }

    [TestMethod]
    public async Task DefaultModelFilename_NamesTheFileInEachVersionFolder()
    {
        await using var server = await TestServer.StartAsync(addModels: repository =>
        {
            Copy(repository, "mlp", "renamed", "default_model_filename: \"network.onnx\"");
            foreach (var version in new[] { "1", "2" })
                File.Move(Path.Combine(repository, "renamed", version, "model.onnx"), Path.Combine(repository, "renamed", version, "network.onnx"));
        });

        var response = await server.PostAsync("/v2/models/renamed/infer", Requests.Json(Requests.Rows(2, seed: 3), 2));

        Assert.AreEqual(200, response.Status, response.Body?.ToJsonString());
        CollectionAssert.AreEqual(Requests.Direct(server.Version2, Requests.Rows(2, seed: 3), 2), Requests.Floats(response.Body));
    }

    [TestMethod]
    public async Task ConfigEndpoint_GivesTritonsJsonFormOfTheModelConfig()
    {
        await using var server = await TestServer.StartAsync();

        var (status, config) = await server.GetAsync("/v2/models/mlp/config");
        var (versionStatus, _) = await server.GetAsync("/v2/models/mlp/versions/1/config");
        var (missing, error) = await server.GetAsync("/v2/models/nope/config");

        Assert.AreEqual(200, status);
        Assert.AreEqual(200, versionStatus);
        Assert.AreEqual("mlp", config!["name"]!.GetValue<string>());
        Assert.AreEqual("onnxruntime_onnx", config["platform"]!.GetValue<string>());
        Assert.AreEqual(64, config["max_batch_size"]!.GetValue<int>());
        Assert.AreEqual("""{"all":{}}""", config["version_policy"]!.ToJsonString());
        Assert.AreEqual("""[{"name":"input","data_type":"TYPE_FP32","format":"FORMAT_NONE","dims":["8"],"is_shape_tensor":false,"allow_ragged_batch":false,"optional":false}]""", config["input"]!.ToJsonString());
        Assert.AreEqual("""[{"name":"output","data_type":"TYPE_FP32","dims":["3"],"label_filename":"","is_shape_tensor":false}]""", config["output"]!.ToJsonString());
        Assert.AreEqual("""{"preferred_batch_size":[],"max_queue_delay_microseconds":"2000"}""", config["dynamic_batching"]!.ToJsonString());
        Assert.AreEqual("model.onnx", config["default_model_filename"]!.GetValue<string>());
        Assert.AreEqual(404, missing);
        StringAssert.Contains(error!["error"]!.GetValue<string>(), "unknown model 'nope'");
    }

    [TestMethod]
    public async Task StatisticsEndpoint_CountsRequestsRunsRowsAndFailures_PerVersion()
    {
        await using var server = await TestServer.StartAsync();
        await server.PostAsync("/v2/models/mlp/infer", Requests.Json(Requests.Rows(2, seed: 1), 2));
        await server.PostAsync("/v2/models/mlp/infer", Requests.Json(Requests.Rows(3, seed: 2), 3));
        await server.PostAsync("/v2/models/mlp/infer", """{"inputs":[{"name":"input","shape":[1,7],"datatype":"FP32","data":[1,2,3,4,5,6,7]}]}""");

        var (status, body) = await server.GetAsync("/v2/models/mlp/versions/2/stats");
        var (allStatus, all) = await server.GetAsync("/v2/models/stats");
        var (missing, _) = await server.GetAsync("/v2/models/nope/stats");

        Assert.AreEqual(200, status, body?.ToJsonString());
        var stats = body!["model_stats"]![0]!;
        Assert.AreEqual(("mlp", "2"), (stats["name"]!.GetValue<string>(), stats["version"]!.GetValue<string>()));
        Assert.AreEqual(5, stats["inference_count"]!.GetValue<long>(), "rows run");
        Assert.AreEqual(2, stats["execution_count"]!.GetValue<long>(), "model runs");
        Assert.AreEqual(2, stats["inference_stats"]!["success"]!["count"]!.GetValue<long>());
        Assert.AreEqual(1, stats["inference_stats"]!["fail"]!["count"]!.GetValue<long>());
        Assert.IsTrue(stats["inference_stats"]!["success"]!["ns"]!.GetValue<long>() > 0);
        Assert.AreEqual(2, stats["inference_stats"]!["queue"]!["count"]!.GetValue<long>());
        Assert.IsTrue(stats["last_inference"]!.GetValue<long>() > 1_700_000_000_000, "milliseconds since the epoch");
        Assert.AreEqual(200, allStatus);
        Assert.IsTrue(all!["model_stats"]!.AsArray().Count(m => m!["name"]!.GetValue<string>() == "mlp") == 2, "one entry per loaded version");
        Assert.AreEqual(404, missing);
    }

    [TestMethod]
    [DataRow("gzip")]
    [DataRow("deflate")]
    public async Task CompressedRequestBody_IsDecompressed_AndTheAnswerCompressedWhenAsked(string encoding)
    {
        await using var server = await TestServer.StartAsync();
        var rows = Requests.Rows(3, seed: 7);
        using var content = new ByteArrayContent(Compress(Encoding.UTF8.GetBytes(Requests.Json(rows, 3)), encoding));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add(encoding);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/mlp/infer") { Content = content };
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue(encoding));

        using var response = await server.Client.SendAsync(request);
        var body = Decompress(await response.Content.ReadAsByteArrayAsync(), encoding);

        Assert.AreEqual(200, (int)response.StatusCode, Encoding.UTF8.GetString(body));
        CollectionAssert.AreEqual(new[] { encoding }, response.Content.Headers.ContentEncoding.ToArray());
        CollectionAssert.AreEqual(Requests.Direct(server.Version2, rows, 3), Requests.Floats(System.Text.Json.Nodes.JsonNode.Parse(body)));
    }

    [TestMethod]
    public async Task CompressedBomb_IsA413_AndCorruptGzipA400()
    {
        await using var server = await TestServer.StartAsync(s => s with { MaxRequestBodyBytes = 1 << 20 });
        var bomb = Compress(new byte[64 << 20], "gzip"); // 64 MiB of zeros in about 64 KiB

        var (bombStatus, bombError) = await Post(server, bomb, "gzip");
        var (corruptStatus, corruptError) = await Post(server, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7], "gzip");
        var (unknownStatus, unknownError) = await Post(server, Encoding.UTF8.GetBytes("{}"), "br");

        Assert.IsTrue(bomb.Length < 1 << 20);
        Assert.AreEqual(413, bombStatus, bombError);
        StringAssert.Contains(bombError, "decompresses to more than the limit of 1048576 bytes");
        Assert.AreEqual(400, corruptStatus, corruptError);
        StringAssert.Contains(corruptError, "the gzip request body is corrupt");
        Assert.AreEqual(400, unknownStatus, unknownError);
        StringAssert.Contains(unknownError, "Content-Encoding 'br' is not supported");
    }

    private static async Task<(int Status, string Body)> Post(TestServer server, byte[] body, string encoding)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add(encoding);
        using var response = await server.Client.PostAsync("/v2/models/mlp/infer", content);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The test repository's model <paramref name="from"/> (both versions) under a new name, with its config plus <paramref name="extra"/>.</summary>
    private static void Copy(string repository, string from, string to, string extra)
    {
        OnnxBridge.Tests.Shared.TempFolder.CopyTree(Path.Combine(repository, from), Path.Combine(repository, to));
        var config = Path.Combine(repository, to, "config.pbtxt");
        var text = File.ReadAllText(config).Replace($"name: \"{from}\"", $"name: \"{to}\"", StringComparison.Ordinal)
            .Replace("version_policy: { all { } }\n", "", StringComparison.Ordinal);
        File.WriteAllText(config, text + extra + "\n");
    }

    private static byte[] Compress(byte[] data, string encoding)
    {
        using var output = new MemoryStream();
        using (Stream stream = encoding == "gzip" ? new GZipStream(output, CompressionLevel.Optimal) : new ZLibStream(output, CompressionLevel.Optimal))
            stream.Write(data);
        return output.ToArray();
    }

    private static byte[] Decompress(byte[] data, string encoding)
    {
        using var input = new MemoryStream(data);
        using Stream stream = encoding == "gzip" ? new GZipStream(input, CompressionMode.Decompress) : new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        stream.CopyTo(output);
        return output.ToArray();
    }
}
