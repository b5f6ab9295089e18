using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Host.Tests;

/// <summary>
/// The host as its own process (dotnet OnnxBridge.Host.dll), hit with random methods, paths, headers
/// and bodies on every route for a bounded number of requests and time, on loopback only. Nothing
/// may answer 5xx — except 503 for a model that is not ready, which the protocol prescribes (the
/// fuzzer unloads models and calls the broken one) — the process must stay up, and a valid request
/// must still work afterwards.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class FuzzTests
{
    private const int Requests = 6000;
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(90);

    private static readonly string[] Routes =
    [
        "/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/{m}", "/v2/models/{m}/versions/{v}", "/v2/models/{m}/ready",
        "/v2/models/{m}/versions/{v}/ready", "/v2/models/{m}/infer", "/v2/models/{m}/versions/{v}/infer", "/v2/repository/index",
        "/v2/repository/models/{m}/load", "/v2/repository/models/{m}/unload", "/metrics",
    ];

    private static readonly string[] Names = ["mlp", "plain", "identity_bool", "identity_float16", "to_fp16", "broken", "nope", "..", "%2e%2e", "%2F", "a%00b", "mlp%20", "ünïcode", new string('m', 3000), ""];
    private static readonly string[] Versions = ["1", "2", "0", "-1", "99999999999999999999", "x", "1.5", ""];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

    [TestMethod]
    public async Task RandomRequests_OnEveryRoute_NoServerErrorAndTheHostStaysUp()
    {
        using var temp = new TempFolder();
        TestRepository.Create(temp.File("repository"));
        var port = FreePort();
        var logLines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var host = StartHost(temp.File("repository"), port, logLines);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
        await WaitReady(client, host);

        // A fixed seed keeps CI reproducible; ONNXBRIDGE_FUZZ_SEED explores further.
        var seed = int.TryParse(Environment.GetEnvironmentVariable("ONNXBRIDGE_FUZZ_SEED"), out var s) ? s : 20261126;
        var random = new Random(seed);
        var serverErrors = new List<string>();
        var clock = Stopwatch.StartNew();
        var sent = 0;
        var notReady = 0;
        while (sent < Requests && clock.Elapsed < TimeLimit)
        {
            using var request = RandomRequest(random);
            var description = $"{request.Method} {request.RequestUri}";
            sent++;
            try
            {
                using var response = await client.SendAsync(request);
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                // 503 is the protocol's answer for a model that exists but is not ready (the fuzzer unloads
                // models and hits the broken one): expected, and counted. Any other 5xx is a server error.
                if (status == 503 && text.Contains("is not ready", StringComparison.Ordinal)) notReady++;
                else if (status >= 500) serverErrors.Add($"{status} for {description}: {text}");
            }
            catch (HttpRequestException)
            {
                // The server may close a connection on a malformed request (e.g. a body over the limit); that is not a 5xx.
            }
            catch (TaskCanceledException)
            {
                serverErrors.Add($"no answer within 20 s for {description}");
            }
            Assert.IsFalse(host.HasExited, $"the host exited after {description}");
        }

        Assert.IsTrue(sent >= 500, $"only {sent} requests in {TimeLimit}");
        Assert.AreEqual(0, serverErrors.Count, string.Join("\n", serverErrors.Take(10)));
        // The fuzzer may have unloaded the model: load it back (a valid request too), then infer.
        Assert.AreEqual(HttpStatusCode.OK, (await client.PostAsync("/v2/repository/models/plain/load", null)).StatusCode);
        var valid = await client.PostAsync("/v2/models/plain/infer", new StringContent(Tests.Requests.Json(Tests.Requests.Rows(1, seed: 1), 1), Encoding.UTF8, "application/json"));
        Assert.AreEqual(HttpStatusCode.OK, valid.StatusCode, await valid.Content.ReadAsStringAsync());
        Assert.IsFalse(host.HasExited);
        // --log-format json: one JSON object per line, the request's fields as structured state.
        // The console logger writes on its own thread: give it a moment to catch up.
        System.Text.Json.Nodes.JsonNode? entry = null;
        for (int i = 0; i < 100 && entry is null; i++, await Task.Delay(50))
            entry = logLines.Select(TryParse).FirstOrDefault(e => e?["State"]?["Path"]?.ToString() == "/v2/models/plain/infer" && e["State"]?["Status"]?.ToString() == "200");
        Assert.IsNotNull(entry, "no structured log entry for the valid request:\n" + string.Join("\n", logLines.Take(5)));
        Assert.AreEqual("POST", entry["State"]!["Method"]!.ToString());
        Console.WriteLine($"fuzz (seed {seed}): {sent} requests in {clock.Elapsed.TotalSeconds:F1} s, no server error; {notReady} deliberate 503 'not ready' answers");
    }

    private static HttpRequestMessage RandomRequest(Random random)
    {
        var route = Routes[random.Next(Routes.Length)]
            .Replace("{m}", Names[random.Next(Names.Length)], StringComparison.Ordinal)
            .Replace("{v}", Versions[random.Next(Versions.Length)], StringComparison.Ordinal);
        if (random.Next(10) == 0) route += "/" + RandomText(random, 8);
        var method = random.Next(4) == 0 ? Methods[random.Next(Methods.Length)] : route.EndsWith("infer", StringComparison.Ordinal) || route.Contains("repository", StringComparison.Ordinal) ? "POST" : "GET";
        var request = new HttpRequestMessage(new HttpMethod(method), route);
        if (method is "GET" or "HEAD" or "OPTIONS" && random.Next(3) != 0) return request;

        var (json, binary) = RandomBody(random);
        var body = Encoding.UTF8.GetBytes(json).Concat(binary).ToArray();
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.TryAddWithoutValidation("Content-Type", random.Next(4) switch { 0 => "application/json", 1 => "application/octet-stream", 2 => "text/plain; charset=\u00ff", _ => RandomText(random, 12) });
        switch (random.Next(6))
        {
            case 0: request.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", Encoding.UTF8.GetByteCount(json).ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case 1: request.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", random.Next(3) switch { 0 => "-5", 1 => "99999999999", _ => "abc" }); break;
            case 2: request.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", random.Next(0, body.Length + 10).ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
        }
        if (random.Next(8) == 0) request.Content.Headers.TryAddWithoutValidation("Content-Encoding", "gzip");
        if (random.Next(8) == 0) request.Headers.TryAddWithoutValidation("X-" + RandomText(random, 6), RandomText(random, 20));
        return request;
    }

    /// <summary>Bodies from valid requests mutated in random ways, plus random bytes and junk JSON.</summary>
    private static (string Json, byte[] Binary) RandomBody(Random random)
    {
        string[] datatypes = ["FP32", "FP16", "FP64", "INT64", "BOOL", "BYTES", "UINT8", "fp32", "", "\u0000"];
        string[] values = ["1", "-1e39", "1e400", "true", "\"x\"", "null", "[1,[2]]", "{}", "18446744073709551616", "-0", "NaN", "0.5"];
        var name = random.Next(5) == 0 ? RandomText(random, 5) : random.Next(2) == 0 ? "input" : "x";
        var rows = random.Next(6) == 0 ? random.Next(-2, 100000) : random.Next(0, 5);
        var cols = random.Next(4) == 0 ? random.Next(0, 20) : random.Next(2) == 0 ? 8 : 3;
        var count = Math.Clamp((long)rows * cols, 0, 400);
        var data = string.Join(",", Enumerable.Range(0, Math.Max(0, (int)count + random.Next(-1, 2))).Select(_ => random.Next(5) == 0 ? values[random.Next(values.Length)] : (random.NextDouble() * 10 - 5).ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        var datatype = random.Next(3) == 0 ? datatypes[random.Next(datatypes.Length)] : "FP32";
        var useBinary = random.Next(4) == 0;
        var binarySize = useBinary ? (random.Next(3) == 0 ? random.Next(-10, 1000) : count * 4) : 0;
        var input = useBinary
            ? $$$"""{"name":"{{{name}}}","shape":[{{{rows}}},{{{cols}}}],"datatype":"{{{datatype}}}","parameters":{"binary_data_size":{{{binarySize}}}}}"""
            : $$"""{"name":"{{name}}","shape":[{{rows}},{{cols}}],"datatype":"{{datatype}}","data":[{{data}}]}""";
        var outputs = random.Next(3) == 0 ? $$$""","outputs":[{"name":"{{{(random.Next(2) == 0 ? "output" : "y")}}}","parameters":{"binary_data":{{{(random.Next(3) == 0 ? "1" : "true")}}}}}]""" : "";
        var json = $$"""{"id":"f","inputs":[{{input}}]{{outputs}}}""";
        json = random.Next(8) switch
        {
            0 => json[..random.Next(json.Length)],
            1 => new string('[', random.Next(1, 3000)),
            2 => RandomText(random, random.Next(0, 300)),
            3 => json.Replace("inputs", random.Next(2) == 0 ? "input" : "outputs", StringComparison.Ordinal),
            4 => $$"""{"inputs":[{"name":"input","shape":[{{string.Join(",", Enumerable.Repeat("1", random.Next(0, 70)))}}],"datatype":"FP32","data":[1]}]}""",
            _ => json,
        };
        var binary = useBinary ? new byte[Math.Clamp(binarySize + random.Next(-4, 5), 0, 2000)] : [];
        random.NextBytes(binary);
        if (random.Next(10) == 0)
        {
            binary = new byte[random.Next(0, 5000)];
            random.NextBytes(binary);
        }
        return (json, binary);
    }

    private static string RandomText(Random random, int length) =>
        new([.. Enumerable.Range(0, length).Select(_ => (char)random.Next(random.Next(4) == 0 ? 0x20 : 0x61, random.Next(10) == 0 ? 0x3000 : 0x7b))]);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static System.Text.Json.Nodes.JsonNode? TryParse(string line)
    {
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(line);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static Process StartHost(string repository, int port, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "OnnxBridge.Host.dll"), "--repository", repository, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--grpc-port", "0", "--log-format", "json" })
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null) output.Enqueue(e.Data);
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitReady(HttpClient client, Process host)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            Assert.IsFalse(host.HasExited, "the host exited during startup");
            try
            {
                if ((await client.GetAsync("/v2/health/ready")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(100);
        }
        Assert.Fail("the host did not become ready within 60 s");
    }

    [TestCleanup]
    public void KillStrays()
    {
        // StartHost's process is disposed by the test; make sure it does not outlive it.
        foreach (var p in Process.GetProcessesByName("dotnet").Where(p => SafeCommandLine(p).Contains("OnnxBridge.Host.dll", StringComparison.Ordinal) && SafeCommandLine(p).Contains("/onnxbridge-tests/", StringComparison.Ordinal)))
        {
            try
            {
                p.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        }
    }

    private static string SafeCommandLine(Process process)
    {
        try
        {
            return File.ReadAllText($"/proc/{process.Id}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }
}
