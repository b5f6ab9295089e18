using System.Net.Sockets;
using System.Text;

namespace OnnxBridge.Host.Tests;

/// <summary>
/// The defects load and hostile requests found, each reproduced by its recipe: tiny requests that
/// claimed huge shapes, oversized bodies sent whole before reading, 500s for plausible bad input,
/// metric labels taken from the URL, zero-row requests in a batch, and a failed reload that looked
/// healthy.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class HostileRequestTests
{
    [TestMethod]
    public async Task TenTinyRequestsClaimingHugeShapes_AreRefusedBeforeAllocating()
    {
        await using var server = await TestServer.StartAsync();
        // 64 × 104,857 × 20 float32 values claimed (537 MB) by ~90 bytes with no data.
        const string claim = """{"inputs":[{"name":"x","shape":[8,104857,20],"datatype":"FP32","data":[]}]}""";
        const string binaryClaim = """{"inputs":[{"name":"x","shape":[8,104857,20],"datatype":"FP32","parameters":{"binary_data_size":67108480}}]}""";
        await server.PostAsync("/v2/models/sequence/infer", claim); // warm up the route
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var answers = new List<(int Status, string Error)>();
        for (int i = 0; i < 10; i++)
        {
            var (status, body) = await server.PostAsync("/v2/models/sequence/infer", i % 2 == 0 ? claim : binaryClaim);
            answers.Add((status, body!["error"]!.GetValue<string>()));
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.IsTrue(answers.All(a => a.Status == 400), string.Join("; ", answers));
        StringAssert.Contains(answers[0].Error, "input 'x': shape [8, 104857, 20] needs 16777120 values, \"data\" has 0");
        StringAssert.Contains(answers[1].Error, "binary_data_size 67108480 runs past the end of the body");
        Assert.IsTrue(allocated < 50L << 20, $"ten refused requests allocated {allocated >> 20} MiB in the process");
    }

    [TestMethod]
    public async Task OversizedBody_SentWholeBeforeReading_Gets413NotABrokenPipe()
    {
        await using var server = await TestServer.StartAsync(s => s with { MaxRequestBodyBytes = 1 << 20 });
        var body = new byte[3 << 20];
        Array.Fill(body, (byte)' ');
        var head = Encoding.ASCII.GetBytes($"POST /v2/models/mlp/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n");

        // As Python's urllib and Triton's client do: the whole request first, then read the answer.
        using var client = new TcpClient();
        await client.ConnectAsync(server.Client.BaseAddress!.Host, server.Client.BaseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(head);
        await stream.WriteAsync(body);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync();

        StringAssert.StartsWith(answer, "HTTP/1.1 413");
        StringAssert.Contains(answer, "{\"error\":\"the request body (3145728 bytes) is larger than the limit of 1048576 bytes\"}");
    }

    [TestMethod]
    [DataRow("GET /v2/models/%00/ready HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 400 ", "malformed HTTP request")]
    [DataRow("GET /v2 HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n", "HTTP/1.1 400 ", "malformed HTTP request")]
    [DataRow("GET /v2 HTTP/7.0\r\nHost: localhost\r\n\r\n", "HTTP/1.1 505 ", "HTTP version not supported")]
    public async Task RequestKestrelRejectsBeforeRouting_StillGetsAnErrorBody(string request, string statusLine, string message)
    {
        await using var server = await TestServer.StartAsync();

        using var client = new TcpClient();
        await client.ConnectAsync(server.Client.BaseAddress!.Host, server.Client.BaseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync();
        var (head, body) = (answer[..answer.IndexOf("\r\n\r\n", StringComparison.Ordinal)], answer[(answer.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);

        StringAssert.StartsWith(answer, statusLine);
        StringAssert.Contains(head, "Content-Type: application/json");
        StringAssert.Contains(head, $"Content-Length: {Encoding.UTF8.GetByteCount(body)}");
        Assert.AreEqual(message, System.Text.Json.Nodes.JsonNode.Parse(body)!["error"]!.GetValue<string>()[..message.Length]);
        var (status, _) = await server.GetAsync("/v2/health/live");
        Assert.AreEqual(200, status, "other connections are served as before");
    }

    [TestMethod]
    [DataRow("\"64\"")]
    [DataRow("true")]
    [DataRow("null")]
    [DataRow("{\"n\":1}")]
    [DataRow("1.5")]
    public async Task BinaryDataSize_OfTheWrongKind_Is400(string size)
    {
        await using var server = await TestServer.StartAsync();

        var (status, body) = await server.PostAsync("/v2/models/mlp/infer",
            "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,8],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":" + size + "}}]}");

        Assert.AreEqual(400, status, body?.ToJsonString());
        StringAssert.Contains(body!["error"]!.GetValue<string>(), $"input 'input': binary_data_size must be a non-negative integer, got {size}");
    }

    [TestMethod]
    [DataRow("""{"id":"\ud800","inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}""", "\"id\" is not valid Unicode text")]
    [DataRow("""{"inputs":[{"name":"in\udc00put","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}""", "input: \"name\" is not valid Unicode text")]
    [DataRow("""{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP\ud83232","data":[1,2,3,4,5,6,7,8]}]}""", "input 'input': \"datatype\" is not valid Unicode text")]
    public async Task LoneSurrogates_InIdNameOrDatatype_Are400(string json, string message)
    {
        await using var server = await TestServer.StartAsync();

        var (status, body) = await server.PostAsync("/v2/models/mlp/infer", json);

        Assert.AreEqual(400, status, body?.ToJsonString());
        StringAssert.Contains(body!["error"]!.GetValue<string>(), message);
    }

    [TestMethod]
    public async Task InvalidUtf8_InTheJson_Is400()
    {
        await using var server = await TestServer.StartAsync();
        byte[] json = [.. "{\"id\":\""u8, 0xC3, 0x28, .. "\",\"inputs\":[]}"u8];
        using var content = new ByteArrayContent(json);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await server.Client.PostAsync("/v2/models/mlp/infer", content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.AreEqual(400, (int)response.StatusCode, text);
        StringAssert.Contains(text, "\\\"id\\\" is not valid Unicode text (invalid UTF-8");
    }

    [TestMethod]
    public async Task RandomModelNames_DoNotGrowTheMetrics_RealTrafficKeepsItsLabels()
    {
        await using var server = await TestServer.StartAsync();
        for (int i = 0; i < 300; i++) await server.PostAsync($"/v2/models/random{i}/infer", "{}");
        await server.PostAsync("/v2/models/mlp/infer", Requests.Json(Requests.Rows(1, seed: 1), 1));

        var text = await server.Client.GetStringAsync("/metrics");

        Assert.IsFalse(text.Contains("random", StringComparison.Ordinal), "no label from a name the repository does not know");
        StringAssert.Contains(text, "model=\"mlp\",version=\"2\"} 1");
        StringAssert.Contains(text, "onnxbridge_inference_failures_total{otel_scope_name=\"OnnxBridge.Host\",model=\"\",status=\"404\",version=\"\"} 300");
        Assert.IsFalse(text.Contains("otel_metric_overflow", StringComparison.Ordinal));
    }

    [TestMethod]
    public async Task ZeroRowRequests_AnswerTheSameAloneAndAmongBatchedOnes()
    {
        await using var server = await TestServer.StartAsync(s => s with { MaxQueueDelay = TimeSpan.FromMilliseconds(20) });
        const string empty = """{"inputs":[{"name":"input","shape":[0,8],"datatype":"FP32","data":[]}]}""";

        var alone = await server.PostAsync("/v2/models/mlp/infer", empty);
        var mixed = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => server.PostAsync("/v2/models/mlp/infer",
            i % 2 == 0 ? empty : Requests.Json(Requests.Rows(2, seed: i), 2))));

        Assert.AreEqual(200, alone.Status, alone.Body?.ToJsonString());
        Assert.AreEqual("[0,3]", alone.Body!["outputs"]![0]!["shape"]!.ToJsonString());
        for (int i = 0; i < mixed.Length; i++)
        {
            Assert.AreEqual(200, mixed[i].Status, $"request {i}: {mixed[i].Body?.ToJsonString()}");
            Assert.AreEqual(i % 2 == 0 ? "[0,3]" : "[2,3]", mixed[i].Body!["outputs"]![0]!["shape"]!.ToJsonString(), $"request {i}");
        }
    }

    [TestMethod]
    public async Task FailedReload_ShowsInTheIndexWithItsReason_TheServedVersionsStay()
    {
        await using var server = await TestServer.StartAsync();
        Directory.CreateDirectory(Path.Combine(server.Repository, "mlp", "3"));
        File.WriteAllText(Path.Combine(server.Repository, "mlp", "3", "model.onnx"), "not a model");

        var load = await server.PostAsync("/v2/repository/models/mlp/load");
        var (_, index) = await server.PostAsync("/v2/repository/index");
        var infer = await server.PostAsync("/v2/models/mlp/infer", Requests.Json(Requests.Rows(1, seed: 1), 1));

        Assert.AreEqual(400, load.Status);
        var rows = index!.AsArray().Where(r => r!["name"]!.GetValue<string>() == "mlp").ToList();
        CollectionAssert.AreEqual(new[] { "1", "2" }, rows.Select(r => r!["version"]!.GetValue<string>()).ToArray());
        Assert.IsTrue(rows.All(r => r!["state"]!.GetValue<string>() == "READY"));
        Assert.IsTrue(rows.All(r => r!["reason"]!.GetValue<string>().StartsWith("last load failed: ", StringComparison.Ordinal)), index.ToJsonString());
        Assert.AreEqual(200, infer.Status, "the versions already served still serve");
    }

    [TestMethod]
    public async Task Answers_NeverRevealTheServersPaths()
    {
        await using var server = await TestServer.StartAsync();
        Directory.CreateDirectory(Path.Combine(server.Repository, "mlp", "3"));
        File.WriteAllText(Path.Combine(server.Repository, "mlp", "3", "model.onnx"), "not a model");
        var answers = new List<string>();

        foreach (var (method, path) in new[] { ("POST", "/v2/repository/models/mlp/load"), ("POST", "/v2/repository/models/broken/load"), ("POST", "/v2/repository/index"),
                     ("GET", "/v2/models/broken/ready"), ("POST", "/v2/models/broken/infer"), ("GET", "/v2/models/broken") })
        {
            var (_, body) = method == "GET" ? await server.GetAsync(path) : await server.PostAsync(path);
            answers.Add(body?.ToJsonString() ?? "");
        }

        var root = Path.GetFullPath(server.Repository);
        foreach (var answer in answers) Assert.IsFalse(answer.Contains(root, StringComparison.Ordinal) || answer.Contains("/tmp/", StringComparison.Ordinal), answer);
        StringAssert.Contains(answers[1], "broken");
    }
}
