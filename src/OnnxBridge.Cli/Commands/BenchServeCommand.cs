using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML.OnnxRuntime;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Values;
using OnnxBridge.Host;
using OnnxBridge.Host.Grpc;
using OnnxBridge.Onnx;
using OnnxBridge.Onnx.Repository;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge bench-serve</c>: a bounded load test of the inference host on loopback. An MLP is
/// exported into a temporary repository and served twice in this process — with and without dynamic
/// batching — and closed-loop clients (1, 16, 64 by default) send a fixed number of JSON inference
/// requests each, within a time limit. Reported: throughput and p50/p99 latency, next to a direct
/// in-process <c>InferenceSession.Run</c> loop (batch 1) as the floor.
/// </summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var clients = new Option<int[]>("--clients") { Description = "concurrent clients per run", DefaultValueFactory = _ => [1, 16, 64], AllowMultipleArgumentsPerToken = true };
        var requests = new Option<int>("--requests") { Description = "requests per run (all clients together)", DefaultValueFactory = _ => 4000 };
        var seconds = new Option<double>("--seconds") { Description = "time limit per run; a run stops early when it is reached", DefaultValueFactory = _ => 20 };
        var hidden = new Option<int>("--hidden") { Description = "hidden width of the MLP 64-H-H-10", DefaultValueFactory = _ => 256 };
        var warmup = new Option<double>("--warmup") { Description = "seconds of the same load before each measured run (the JIT needs thousands of calls to settle)", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--intra-op-threads") { Description = "ONNX Runtime threads per run, for the hosts and the floor alike", DefaultValueFactory = _ => 1 };
        var delay = new Option<int>("--max-queue-delay-us") { Description = "the batched host's max_queue_delay_microseconds", DefaultValueFactory = _ => 500 };
        var modelFile = new Option<string?>("--model") { Description = "serve this ONNX model (first input float32 [batch, F]) instead of the MLP built here; needs no TorchSharp" };
        var ep = CommonOptions.ExecutionProvider(ExecutionProviderPolicy.Cpu);
        var command = new Command("bench-serve", "Load-test the inference host on loopback: throughput and p50/p99 latency at several client counts, with and without dynamic batching, against a direct InferenceSession.Run floor.\n\n" +
                                                 "Example: onnxbridge bench-serve --clients 1 16 64 --requests 4000")
        {
            clients, requests, seconds, warmup, hidden, threads, delay, modelFile, ep,
        };
        command.SetAction((r, _) => RunAsync(new Settings(r.GetValue(clients)!, r.GetValue(requests), r.GetValue(seconds), r.GetValue(warmup), r.GetValue(hidden), r.GetValue(threads), r.GetValue(delay))
        {
            Model = r.GetValue(modelFile),
            Policy = r.GetValue(ep),
        }, r.InvocationConfiguration.Output));
        return command;
    }

    internal sealed record Settings(int[] Clients, int Requests, double Seconds, double Warmup, int Hidden, int IntraOpThreads, int MaxQueueDelayMicroseconds)
    {
        /// <summary>An ONNX model to serve instead of the MLP built here.</summary>
        public string? Model { get; init; }

        /// <summary>The execution provider of the hosts and the floor.</summary>
        public ExecutionProviderPolicy Policy { get; init; } = ExecutionProviderPolicy.Cpu;

        public OnnxRuntimeOptions Runtime => new() { Policy = Policy, IntraOpThreads = IntraOpThreads };
    }

    public static async Task<int> RunAsync(Settings s, TextWriter output)
    {
        var (clientCounts, requests, seconds, hidden, delayMicroseconds) = (s.Clients, s.Requests, s.Seconds, s.Hidden, s.MaxQueueDelayMicroseconds);
        var c = CultureInfo.InvariantCulture;
        var folder = Path.Combine(Path.GetTempPath(), $"onnxbridge-bench-serve-{Environment.ProcessId}");
        try
        {
            var (model, description) = s.Model is { } path
                ? (OnnxFiles.WithInlineData(OnnxFiles.ReadModel(path), Path.GetDirectoryName(Path.GetFullPath(path))!), Path.GetFileName(path))
                : (BuildMlp(hidden), string.Create(c, $"MLP 64-{hidden}-{hidden}-10"));
            var (inputName, width) = FirstInput(model);
            ModelRepository.Write(folder, "mlp", 1, model);
            File.WriteAllText(Path.Combine(folder, "mlp", "config.pbtxt"), ModelRepository.Config("mlp", model).Replace("dynamic_batching { }",
                string.Create(c, $"dynamic_batching {{ max_queue_delay_microseconds: {delayMicroseconds} }}"), StringComparison.Ordinal));
            var values = Enumerable.Range(0, width).Select(i => (float)Math.Sin(i)).ToArray();
            // The binary tensor data extension: a JSON header, then the row's raw bytes; the output comes back binary too.
            var binaryJson = Encoding.UTF8.GetBytes($$$"""{"inputs":[{"name":"{{{inputName}}}","shape":[1,{{{width}}}],"datatype":"FP32","parameters":{"binary_data_size":{{{width * 4}}}}}],"parameters":{"binary_data_output":true}}""");
            byte[] binaryBody = [.. binaryJson, .. System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())];
            var binaryJsonLength = binaryJson.Length;
            var grpcRequest = new ModelInferRequest { ModelName = "mlp" };
            grpcRequest.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = inputName, Datatype = "FP32", Shape = { 1, width } });
            grpcRequest.RawInputContents.Add(Google.Protobuf.ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));
            var body = Encoding.UTF8.GetBytes($$"""{"inputs":[{"name":"{{inputName}}","shape":[1,{{width}}],"datatype":"FP32","data":[{{string.Join(",", values.Select(v => v.ToString("R", c)))}}]}]}""");

            output.WriteLine(string.Create(c, $"{description}, FP32, JSON requests of one row; {Environment.ProcessorCount} cores shared by clients and host, {s.IntraOpThreads} ONNX Runtime thread(s) per run on {s.Policy}; {requests} requests or {seconds} s per run after {s.Warmup} s of warm-up"));
            var floor = Floor(Path.Combine(folder, "mlp", "1", "model.onnx"), inputName, values, requests, seconds, s.Runtime);
            output.WriteLine(string.Create(c, $"{"mode",-28} {"clients",7} {"requests",8} {"req/s",9} {"p50 µs",9} {"p99 µs",9}"));
            Row(output, "direct InferenceSession.Run", 1, floor);
            Row(output, "direct OnnxModelSession.Run", 1, Wrapped(Path.Combine(folder, "mlp", "1", "model.onnx"), inputName, values, requests, seconds, s.Runtime));
            var results = new Dictionary<(bool, int), Stats>();
            foreach (var batching in new[] { false, true })
            {
                var app = await InferenceHost.BuildAsync(new HostSettings { Repository = folder, Port = 0, GrpcPort = 0, DynamicBatching = batching, Runtime = s.Runtime }, logging => { }).ConfigureAwait(false);
                await using (app.ConfigureAwait(false))
                {
                    await app.StartAsync().ConfigureAwait(false);
                    // Kestrel lists its addresses in the order they were bound: REST, then gRPC.
                    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
                    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { BaseAddress = new Uri(addresses[0]) };
                    // One HTTP/2 connection multiplexes every client's calls, as a gRPC client shares a channel.
                    using var channel = GrpcChannel.ForAddress(addresses[1], new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } });
                    var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
                    if (!batching)
                    {
                        // The first host measured also pays for the process's JIT (tier-0 code, PGO):
                        // measured first, its first row came out twice as slow as the same row repeated.
                        // One unmeasured round of each load first, so both hosts run settled code.
                        foreach (var clients in clientCounts.Distinct()) await LoadAsync(client, body, clients, requests, seconds, s.Warmup).ConfigureAwait(false);
                        Row(output, "host, GET /v2/health/live", 1, await LoadAsync(client, null, 1, requests, seconds, s.Warmup).ConfigureAwait(false));
                    }
                    foreach (var clients in clientCounts)
                    {
                        var stats = await LoadAsync(client, body, clients, requests, seconds, s.Warmup).ConfigureAwait(false);
                        results[(batching, clients)] = stats;
                        Row(output, batching ? "host, dynamic batching" : "host, no batching", clients, stats);
                    }
                    foreach (var clients in clientCounts)
                    {
                        var stats = await LoadAsync(() => SendBinaryAsync(client, binaryBody, binaryJsonLength), clients, requests, seconds, s.Warmup).ConfigureAwait(false);
                        Row(output, batching ? "REST binary, dynamic batching" : "REST binary, no batching", clients, stats);
                    }
                    foreach (var clients in clientCounts)
                    {
                        var stats = await LoadAsync(() => SendGrpcAsync(grpc, grpcRequest), clients, requests, seconds, s.Warmup).ConfigureAwait(false);
                        results[(batching, -clients)] = stats;
                        Row(output, batching ? "gRPC, dynamic batching" : "gRPC, no batching", clients, stats);
                    }
                    await app.StopAsync().ConfigureAwait(false);
                }
            }
            if (results.TryGetValue((false, 1), out var single))
                output.WriteLine(string.Create(c, $"host overhead at 1 client (p50 over the floor): {single.P50 - floor.P50:0} µs (target ≤ 150)"));
            var most = clientCounts.Max();
            if (results.TryGetValue((true, most), out var batched) && results.TryGetValue((false, most), out var alone))
                output.WriteLine(string.Create(c, $"dynamic batching at {most} clients: {batched.Throughput / alone.Throughput:0.00}x the unbatched throughput over REST JSON"));
            if (results.TryGetValue((true, -most), out var grpcBatched) && results.TryGetValue((false, -most), out var grpcAlone) && results.TryGetValue((false, -1), out var grpcSingle))
            {
                output.WriteLine(string.Create(c, $"dynamic batching at {most} clients: {grpcBatched.Throughput / grpcAlone.Throughput:0.00}x the unbatched throughput over gRPC (target ≥ 3)"));
                output.WriteLine(string.Create(c, $"gRPC overhead at 1 client (p50 over the floor): {grpcSingle.P50 - floor.P50:0} µs"));
            }
            return OnnxBridgeCli.Success;
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The MLP 64-H-H-10 this command serves by default (TorchSharp builds it; kept apart so a run with --model never touches libtorch).</summary>
    private static OnnxBridge.Onnx.Proto.ModelProto BuildMlp(int hidden)
    {
        var input = InputSpec.Float32("input", Dim.Named("batch"), 64);
        random.manual_seed(0);
        var net = Net.Sequential().Linear(hidden).ReLU().Linear(hidden).ReLU().Linear(10).Input(input).Build();
        return OnnxExporter.Export(net, new ExportOptions(input));
    }

    /// <summary>The model's first input: its name and its row width (float32 [batch, F]).</summary>
    private static (string Name, int Width) FirstInput(OnnxBridge.Onnx.Proto.ModelProto model)
    {
        var input = model.Graph.Input[0];
        var dims = input.Type?.TensorType?.Shape?.Dim;
        return input.Type?.TensorType?.ElemType == (int)OnnxBridge.Onnx.Proto.TensorProto.Types.DataType.Float && dims is { Count: 2 } && dims[1].HasDimValue && dims[1].DimValue is > 0 and <= 1 << 20
            ? (input.Name, (int)dims[1].DimValue)
            : throw new UsageException($"bench-serve needs a model whose first input is float32 [batch, F]; '{input.Name}' is not");
    }

    private sealed record Stats(int Requests, double Throughput, double P50, double P99, int Failures);

    private static void Row(TextWriter output, string mode, int clients, Stats s) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode,-28} {clients,7} {s.Requests,8} {s.Throughput,9:0} {s.P50,9:0} {s.P99,9:0}{(s.Failures > 0 ? $"  ({s.Failures} failed)" : "")}"));

    /// <summary>The floor: the same model and row, run in-process through ONNX Runtime's own API, one call after another.</summary>
    private static Stats Floor(string modelPath, string inputName, float[] values, int requests, double seconds, OnnxRuntimeOptions runtime)
    {
        using var options = runtime.CreateSessionOptions(runtime.Policy == ExecutionProviderPolicy.Cpu ? ExecutionProvider.Cpu : ExecutionProvider.Cuda);
        using var session = new InferenceSession(modelPath, options);
        var output = session.OutputNames[0];
        using var runOptions = new RunOptions();
        return Sequential(() =>
        {
            using var tensor = OrtValue.CreateTensorValueFromMemory(values, [1, values.Length]);
            using var results = session.Run(runOptions, [inputName], [tensor], [output]);
            _ = results[0].GetTensorDataAsSpan<float>()[0];
        }, requests, seconds);
    }

    /// <summary>The same loop through <see cref="OnnxBridge.Runtime.Sessions.OnnxModelSession"/>, as the host calls it (copies in and out included).</summary>
    private static Stats Wrapped(string modelPath, string inputName, float[] values, int requests, double seconds, OnnxRuntimeOptions runtime)
    {
        using var session = OnnxModelSession.Open(modelPath, runtime);
        var feed = new[] { new OnnxBridge.Onnx.TestCases.NamedTensor(inputName, OnnxBridge.Onnx.Tensors.HostTensor.Create<float>(values, 1, values.Length)) };
        return Sequential(() => session.Run(feed), requests, seconds);
    }

    /// <summary>Times <paramref name="run"/> call after call: 2,000 warm-up calls, then up to <paramref name="requests"/> measured ones within <paramref name="seconds"/>.</summary>
    private static Stats Sequential(Action run, int requests, double seconds)
    {
        const int warmup = 2000;
        var latencies = new List<double>(requests);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < requests + warmup && clock.Elapsed.TotalSeconds < seconds; i++)
        {
            var start = Stopwatch.GetTimestamp();
            run();
            if (i >= warmup) latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        return Summarize(latencies, latencies.Sum() / 1e6, 0);
    }

    private static Task<Stats> LoadAsync(HttpClient client, byte[]? body, int clients, int requests, double seconds, double warmupSeconds) =>
        LoadAsync(() => SendAsync(client, body), clients, requests, seconds, warmupSeconds);

    /// <summary>Closed-loop load: <paramref name="clients"/> callers of <paramref name="send"/>, each sending its next request when the last is answered.</summary>
    private static async Task<Stats> LoadAsync(Func<Task<bool>> send, int clients, int requests, double seconds, double warmupSeconds)
    {
        // Warm up with the same load: .NET's tiered JIT and dynamic PGO need thousands of calls to reach
        // steady-state code, and the first run of each path would otherwise dominate the percentiles.
        var warmup = Stopwatch.StartNew();
        do
        {
            await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => send())).ConfigureAwait(false);
        }
        while (warmup.Elapsed.TotalSeconds < warmupSeconds);
        var latencies = new List<double>[clients];
        var failures = 0;
        var remaining = requests;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async k =>
        {
            latencies[k] = [];
            while (Interlocked.Decrement(ref remaining) >= 0 && clock.Elapsed.TotalSeconds < seconds)
            {
                var start = Stopwatch.GetTimestamp();
                if (!await send().ConfigureAwait(false)) Interlocked.Increment(ref failures);
                latencies[k].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }
        })).ConfigureAwait(false);
        return Summarize([.. latencies.SelectMany(l => l)], clock.Elapsed.TotalSeconds, failures);
    }

    /// <summary>One REST request with binary tensor data (Inference-Header-Content-Length); false for a failed one.</summary>
    private static async Task<bool> SendBinaryAsync(HttpClient client, byte[] body, int jsonLength)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", jsonLength.ToString(CultureInfo.InvariantCulture));
        using var response = await client.PostAsync("/v2/models/mlp/infer", content).ConfigureAwait(false);
        await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    /// <summary>One gRPC ModelInfer call with raw input contents; false for a failed call.</summary>
    private static async Task<bool> SendGrpcAsync(GRPCInferenceService.GRPCInferenceServiceClient client, ModelInferRequest request)
    {
        try
        {
            var response = await client.ModelInferAsync(request).ConfigureAwait(false);
            return response.RawOutputContents.Count == 1;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    /// <summary>One request: an inference with <paramref name="body"/>, or with null the liveness probe (the HTTP round trip alone).</summary>
    private static async Task<bool> SendAsync(HttpClient client, byte[]? body)
    {
        if (body is null)
        {
            using var probe = await client.GetAsync("/v2/health/live").ConfigureAwait(false);
            await probe.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            return probe.IsSuccessStatusCode;
        }
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync("/v2/models/mlp/infer", content).ConfigureAwait(false);
        await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    private static Stats Summarize(List<double> latencies, double elapsedSeconds, int failures)
    {
        latencies.Sort();
        double At(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        return new Stats(latencies.Count, latencies.Count / elapsedSeconds, At(0.5), At(0.99), failures);
    }
}
