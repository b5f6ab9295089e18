using OnnxBridge.Onnx.Repository;

namespace OnnxBridge.Host.Tests;

[TestClass]
[DoNotParallelize]
public sealed class RepositoryAndBatchingTests
{
    [TestMethod]
    public async Task Index_ListsReadyVersionsAndUnavailableModelsWithReasons()
    {
        await using var server = await TestServer.StartAsync();

        var (status, body) = await server.PostAsync("/v2/repository/index");

        Assert.AreEqual(200, status);
        var rows = body!.AsArray().Select(r => (Name: r!["name"]!.GetValue<string>(), Version: r["version"]?.GetValue<string>(), State: r["state"]!.GetValue<string>(), Reason: r["reason"]!.GetValue<string>())).ToList();
        CollectionAssert.IsSubsetOf(new[] { ("mlp", (string?)"1", "READY", ""), ("mlp", "2", "READY", "") }, rows);
        var broken = rows.Single(r => r.Name == "broken");
        Assert.AreEqual("UNAVAILABLE", broken.State);
        StringAssert.Contains(broken.Reason, "broken/1/model.onnx failed:Protobuf parsing failed");
    }

    [TestMethod]
    public async Task UnloadThenLoad_ChangesReadinessAndPicksUpNewVersions()
    {
        await using var server = await TestServer.StartAsync();
        var valid = Requests.Json(Requests.Rows(1, seed: 1), 1);

        Assert.AreEqual(200, (await server.PostAsync("/v2/repository/models/mlp/unload")).Status);
        var whileUnloaded = await server.PostAsync("/v2/models/mlp/infer", valid);
        var readyWhileUnloaded = await server.GetAsync("/v2/models/mlp/ready");
        // A third version appears on disk; loading picks it up and makes it the default.
        ModelRepository.Write(server.Repository, "mlp", 3, Onnx.OnnxFiles.ReadModel(Path.Combine(server.Repository, "mlp", "1", "model.onnx")));
        File.WriteAllText(Path.Combine(server.Repository, "mlp", "config.pbtxt"), File.ReadAllText(Path.Combine(server.Repository, "mlp", "config.pbtxt")));
        var load = await server.PostAsync("/v2/repository/models/mlp/load");
        var after = await server.PostAsync("/v2/models/mlp/infer", valid);

        Assert.AreEqual(503, whileUnloaded.Status);
        StringAssert.Contains(whileUnloaded.Body!["error"]!.GetValue<string>(), "model 'mlp' is not ready: unloaded");
        Assert.AreEqual(503, readyWhileUnloaded.Status);
        Assert.AreEqual(200, load.Status, load.Body?.ToJsonString());
        Assert.AreEqual("3", after.Body!["model_version"]!.GetValue<string>());
        Assert.AreEqual(404, (await server.PostAsync("/v2/repository/models/nope/load")).Status);
        Assert.AreEqual(400, (await server.PostAsync("/v2/repository/models/broken/load")).Status);
    }

    [TestMethod]
    public async Task Load_WhileRequestsAreInFlight_DropsNone()
    {
        // Count-driven, not time-driven: every client keeps requests going while the five reloads run
        // and sends five more after them, so requests are in flight across every swap on any machine.
        await using var server = await TestServer.StartAsync();
        var rows = Requests.Rows(2, seed: 5);
        var expected = Requests.Direct(server.Version2, rows, 2);
        var firstAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reloads = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var clients = Enumerable.Range(0, 8).Select(async _ =>
        {
            var results = new List<(int, float[])>();
            for (int afterReloads = 0; afterReloads < 5; afterReloads += reloads.Task.IsCompleted ? 1 : 0)
            {
                var (status, body) = await server.PostAsync("/v2/models/mlp/infer", Requests.Json(rows, 2));
                results.Add((status, status == 200 ? Requests.Floats(body) : []));
                firstAnswered.TrySetResult();
            }
            return results;
        }).ToList();
        await firstAnswered.Task;
        for (int i = 0; i < 5; i++) Assert.AreEqual(200, (await server.PostAsync("/v2/repository/models/mlp/load")).Status);
        reloads.SetResult();
        var all = (await Task.WhenAll(clients)).SelectMany(r => r).ToList();

        Assert.IsTrue(all.Count >= 8 * 5 + 1, $"{all.Count} requests");
        Assert.IsTrue(all.All(r => r.Item1 == 200), string.Join(", ", all.Where(r => r.Item1 != 200).Select(r => r.Item1)));
        Assert.IsTrue(all.All(r => r.Item2.SequenceEqual(expected)));
    }

    [TestMethod]
    public async Task DynamicBatching_ConcurrentRequests_IdenticalToUnbatchedRuns()
    {
        await using var server = await TestServer.StartAsync(s => s with { MaxQueueDelay = TimeSpan.FromMilliseconds(20) });
        var inputs = Enumerable.Range(0, 24).Select(i => (Rows: 1 + i % 3, Values: Requests.Rows(1 + i % 3, seed: 100 + i))).ToList();

        var responses = await Task.WhenAll(inputs.Select(i => server.PostAsync("/v2/models/mlp/infer", Requests.Json(i.Values, i.Rows))));

        for (int i = 0; i < inputs.Count; i++)
        {
            Assert.AreEqual(200, responses[i].Status);
            CollectionAssert.AreEqual(Requests.Direct(server.Version2, inputs[i].Values, inputs[i].Rows), Requests.Floats(responses[i].Body), $"request {i}");
        }
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.AreEqual(inputs.Sum(i => i.Rows), Metric(metrics, "onnxbridge_inference_batch_size_sum", "model=\"mlp\""), "every row ran once");
    }

    [TestMethod]
    public async Task DynamicBatching_RequestsArrivingDuringARun_AreMergedIntoTheNext_EachGettingItsOwnRows()
    {
        // The slow model's first run holds the model; the others are sent once it runs, and queue.
        await using var server = await TestServer.StartAsync();
        static string Request(int i, int rows) => $$"""{"inputs":[{"name":"x","shape":[{{rows}},3],"datatype":"FP32","data":[{{string.Join(",", Enumerable.Range(0, rows * 3).Select(v => i * 100 + v))}}]}]}""";

        var first = server.PostAsync("/v2/models/slow/infer", Request(0, 1));
        Assert.IsTrue(await SlowRunStarted(server, first), "the first request never started running");
        var others = new List<Task<(int Status, System.Text.Json.Nodes.JsonNode? Body)>>();
        for (int i = 1; i <= 6; i++) others.Add(server.PostAsync("/v2/models/slow/infer", Request(i, 1 + i % 2)));
        var queued = await SlowPending(server, 6, first);
        var answers = await Task.WhenAll(others);
        await first;

        Assert.IsTrue(queued, "requests never queued behind the running one");
        for (int i = 1; i <= 6; i++)
        {
            Assert.AreEqual(200, answers[i - 1].Status, answers[i - 1].Body?.ToJsonString());
            CollectionAssert.AreEqual(Enumerable.Range(0, (1 + i % 2) * 3).Select(v => (float)(i * 100 + v)).ToArray(), Requests.Floats(answers[i - 1].Body), $"request {i} got its own rows");
        }
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.IsTrue(Metric(metrics, "onnxbridge_inference_batch_size_count", "model=\"slow\"") < 7, "the queued requests ran as fewer batches than requests");
    }

    [TestMethod]
    public async Task Metrics_ExposeRequestsFailuresLatencyQueueAndBatchSizePerModel()
    {
        await using var server = await TestServer.StartAsync();
        await server.PostAsync("/v2/models/mlp/infer", Requests.Json(Requests.Rows(2, seed: 1), 2));
        await server.PostAsync("/v2/models/mlp/infer", "{");

        var text = await server.Client.GetStringAsync("/metrics");

        Assert.AreEqual(2, Metric(text, "onnxbridge_inference_requests_total", "model=\"mlp\""));
        Assert.AreEqual(1, Metric(text, "onnxbridge_inference_failures_total", "status=\"400\""));
        Assert.AreEqual(2, Metric(text, "onnxbridge_inference_duration_seconds_count", "model=\"mlp\""));
        Assert.AreEqual(1, Metric(text, "onnxbridge_inference_queue_duration_seconds_count", "model=\"mlp\""));
        Assert.AreEqual(2, Metric(text, "onnxbridge_inference_batch_size_sum", "model=\"mlp\""));
        StringAssert.Contains(text, "onnxbridge_inference_duration_seconds_bucket{");
    }

    [TestMethod]
    public async Task Requests_AreLoggedWithStructuredFields()
    {
        await using var server = await TestServer.StartAsync();

        await server.PostAsync("/v2/models/mlp/infer", Requests.Json(Requests.Rows(1, seed: 1), 1, id: "log-me"));

        // The entry is written once the response has gone out, so it may trail the client by a moment.
        string? line = null;
        for (int i = 0; i < 100 && line is null; i++, await Task.Delay(20))
            line = server.Logs.Lines.SingleOrDefault(l => l.Contains("RequestId=log-me", StringComparison.Ordinal));
        Assert.IsNotNull(line, string.Join("\n", server.Logs.Lines));
        StringAssert.Contains(line, "Method=POST;Path=/v2/models/mlp/infer;Status=200;DurationMs=");
    }

    [TestMethod]
    public async Task Shutdown_FinishesRequestsInFlight_TheRunningAndTheQueued()
    {
        // The slow model's run (a long Loop) holds the first request; the second, sent once the first runs, queues behind it.
        // Shutdown starts once the pending-requests gauge shows the second queued (a condition, not a guessed sleep).
        var server = await TestServer.StartAsync();
        try
        {
            const string request = """{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}""";
            var running = server.PostAsync("/v2/models/slow/infer", request);
            Assert.IsTrue(await SlowRunStarted(server, running), "the first request never started running");
            var queuedBehind = server.PostAsync("/v2/models/slow/infer", request);
            Assert.IsTrue(await SlowPending(server, 1, running), "the second request never showed in the batch queue");

            await server.StopAsync();

            foreach (var (status, body) in await Task.WhenAll(running, queuedBehind))
            {
                Assert.AreEqual(200, status, body?.ToJsonString());
                CollectionAssert.AreEqual(new[] { 1f, 2f, 3f }, Requests.Floats(body));
            }
            await Assert.ThrowsExactlyAsync<HttpRequestException>(() => server.GetAsync("/v2/health/live"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task DynamicBatching_ALoneRequestRunsAtOnce_WithoutWaitingForTheQueueDelay()
    {
        // A 3-second queue delay: a lone request that waited for company would take 3 s.
        await using var server = await TestServer.StartAsync(s => s with { MaxQueueDelay = TimeSpan.FromSeconds(3) });
        var rows = Requests.Rows(1, seed: 4);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (status, body) = await server.PostAsync("/v2/models/mlp/infer", Requests.Json(rows, 1));
        clock.Stop();

        Assert.AreEqual(200, status);
        CollectionAssert.AreEqual(Requests.Direct(server.Version2, rows, 1), Requests.Floats(body));
        var queuedFor = Metric(await server.Client.GetStringAsync("/metrics"), "onnxbridge_inference_queue_duration_seconds_sum", "model=\"mlp\"");
        Assert.IsTrue(queuedFor < 1.5, $"the request waited {queuedFor:F3} s for a batch it did not need");
    }

    // Requests sent together may all queue and run as one batch (each has company), so the tests that
    // need one request running and others queued behind it send the others only once the first runs.

    /// <summary>Whether the slow model's first run started (its batch was counted) before <paramref name="request"/> ended.</summary>
    private static Task<bool> SlowRunStarted(TestServer server, Task request) =>
        Eventually(server, request, metrics => Metric(metrics, "onnxbridge_inference_batch_size_count", "model=\"slow\"") >= 1);

    /// <summary>Whether <paramref name="count"/> requests showed queued for the slow model while <paramref name="running"/> still ran.</summary>
    private static Task<bool> SlowPending(TestServer server, int count, Task running) =>
        Eventually(server, running, metrics => Metric(metrics, "onnxbridge_inference_pending", "model=\"slow\"") >= count);

    /// <summary>Polls /metrics until <paramref name="condition"/> holds (true), or <paramref name="until"/> completes or 10 s pass (false).</summary>
    private static async Task<bool> Eventually(TestServer server, Task until, Func<string, bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!until.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (condition(await server.Client.GetStringAsync("/metrics"))) return true;
            await Task.Delay(5);
        }
        return false;
    }

    /// <summary>The sum of a Prometheus metric's samples, over the lines that contain <paramref name="filter"/>.</summary>
    private static double Metric(string text, string name, string filter = "") =>
        text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(filter, StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
}
