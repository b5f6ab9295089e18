namespace OnnxBridge.Host.Tests;

/// <summary>Refusals as the protocol and Triton make them: a status and {"error": "..."} naming the problem.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ErrorTests
{
    private const string Valid = """{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}""";

    [TestMethod]
    [DataRow("""{"inputs":[""", 400, "malformed JSON")]
    [DataRow("""[1,2]""", 400, "the request must be a JSON object with \"inputs\"")]
    [DataRow("""{"inputs":[]}""", 400, "the request needs \"inputs\": a non-empty array")]
    [DataRow("""{"inputs":[{"name":"input","shape":[1,7],"datatype":"FP32","data":[1,2,3,4,5,6,7]}]}""", 400, "input 'input' has shape [1, 7], but the model expects float32[batch, 8] (dimension 1 must be 8)")]
    [DataRow("""{"inputs":[{"name":"input","shape":[8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}""", 400, "input 'input' has shape [8], but the model expects float32[batch, 8]")]
    [DataRow("""{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP64","data":[1,2,3,4,5,6,7,8]}]}""", 400, "input 'input' has datatype FP64, but the model expects FP32")]
    [DataRow("""{"inputs":[{"name":"input","shape":[1,8],"datatype":"BYTES","data":[1,2,3,4,5,6,7,8]}]}""", 400, "input 'input': datatype 'BYTES' is not supported")]
    [DataRow("""{"inputs":[{"name":"input","shape":[2,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}""", 400, "input 'input': shape [2, 8] needs 16 values, \"data\" has 8")]
    [DataRow("""{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8,9]}]}""", 400, "input 'input': shape [1, 8] needs 8 values, \"data\" has 9")]
    [DataRow("""{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[1,2,3,"x",5,6,7,8]}]}""", 400, "input 'input': value 3 (\"x\") is not a valid FP32")]
    [DataRow("""{"inputs":[{"name":"pixels","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}""", 400, "unknown input 'pixels'; model 'mlp' takes 'input'")]
    [DataRow("""{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}],"outputs":[{"name":"logits"}]}""", 400, "unknown output 'logits'; model 'mlp' has 'output'")]
    [DataRow("""{"inputs":[{"name":"input","shape":[65,8],"datatype":"FP32","data":[]}]}""", 400, "input 'input' has batch size 65, more than the model's max_batch_size 64")]
    [DataRow("""{"inputs":[{"name":"input","shape":[1,-8],"datatype":"FP32","data":[]}]}""", 400, "input 'input': shape [1,-8] must hold non-negative integers")]
    public async Task Infer_BadRequest_Is400NamingTheProblem(string json, int status, string message)
    {
        await using var server = await TestServer.StartAsync();

        var (actual, body) = await server.PostAsync("/v2/models/mlp/infer", json);

        Assert.AreEqual(status, actual, body?.ToJsonString());
        StringAssert.Contains(body!["error"]!.GetValue<string>(), message);
    }

    [TestMethod]
    [DataRow("/v2/models/nope/infer", 404, "unknown model 'nope'")]
    [DataRow("/v2/models/mlp/versions/9/infer", 404, "model 'mlp' has no version 9; loaded versions: 1, 2")]
    [DataRow("/v2/models/broken/infer", 503, "model 'broken' is not ready")]
    [DataRow("/v2/models/mlp/versions/0/infer", 400, "model version '0' is not a positive integer")]
    public async Task Infer_UnknownOrUnready_StatusAndMessage(string path, int status, string message)
    {
        await using var server = await TestServer.StartAsync();

        var (actual, body) = await server.PostAsync(path, Valid);

        Assert.AreEqual(status, actual);
        StringAssert.Contains(body!["error"]!.GetValue<string>(), message);
    }

    [TestMethod]
    public async Task Infer_BinaryDataSizeMismatch_Is400()
    {
        await using var server = await TestServer.StartAsync();
        var header = """{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","parameters":{"binary_data_size":32}}]}""";

        var tooShort = await server.PostBinaryAsync("/v2/models/mlp/infer", header, new byte[31]);
        var tooLong = await server.PostBinaryAsync("/v2/models/mlp/infer", header, new byte[40]);

        Assert.AreEqual(400, tooShort.Status);
        StringAssert.Contains(System.Text.Encoding.UTF8.GetString(tooShort.Body), "binary_data_size 32 runs past the end of the body (31 bytes left)");
        Assert.AreEqual(400, tooLong.Status);
        StringAssert.Contains(System.Text.Encoding.UTF8.GetString(tooLong.Body), "the body carries 40 bytes of binary data after the JSON, but the inputs' binary_data_size add up to 32");
    }

    [TestMethod]
    public async Task Infer_BodyOverLimit_Is413_ThenASmallRequestSucceeds()
    {
        await using var server = await TestServer.StartAsync(s => s with { MaxRequestBodyBytes = 4096 });
        var big = Requests.Json(Requests.Rows(60, seed: 1), 60);
        Assert.IsTrue(big.Length > 4096);

        var (status, body) = await server.PostAsync("/v2/models/mlp/infer", big);
        var after = await server.PostAsync("/v2/models/mlp/infer", Valid);

        Assert.AreEqual(413, status);
        StringAssert.Contains(body!["error"]!.GetValue<string>(), "larger than the limit of 4096 bytes");
        Assert.AreEqual(200, after.Status, after.Body?.ToJsonString());
    }

    [TestMethod]
    public async Task Infer_ChunkedBodyOverLimit_Is413()
    {
        await using var server = await TestServer.StartAsync(s => s with { MaxRequestBodyBytes = 4096 });
        using var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Requests.Json(Requests.Rows(60, seed: 1), 60))));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/mlp/infer") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await server.Client.SendAsync(request);

        Assert.AreEqual(413, (int)response.StatusCode);
        Assert.AreEqual(200, (await server.PostAsync("/v2/models/mlp/infer", Valid)).Status);
    }

    [TestMethod]
    public async Task UnmatchedRouteAndMethod_AreJsonErrorsWithoutStackTraces()
    {
        await using var server = await TestServer.StartAsync();

        var missing = await server.GetAsync("/v3/whatever");
        var method = await server.SendAsync(HttpMethod.Delete, "/v2/models/mlp/infer");

        Assert.AreEqual(404, missing.Status);
        Assert.AreEqual("no route for GET /v3/whatever", missing.Body!["error"]!.GetValue<string>());
        Assert.AreEqual(405, method.Status);
        Assert.AreEqual("method DELETE is not allowed on /v2/models/mlp/infer", method.Body!["error"]!.GetValue<string>());
    }
}
