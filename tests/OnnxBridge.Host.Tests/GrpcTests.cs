using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OnnxBridge.Host.Grpc;

namespace OnnxBridge.Host.Tests;

/// <summary>
/// The gRPC API (inference.GRPCInferenceService) against a real Kestrel server, over HTTP/2 on its
/// own port: every RPC, raw and typed tensor contents, the same answers as REST, and refusals as
/// Triton's gRPC statuses.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class GrpcTests
{
    [TestMethod]
    public async Task HealthMetadataAndRepositoryRpcs()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress!);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        var live = await client.ServerLiveAsync(new ServerLiveRequest());
        var ready = await client.ServerReadyAsync(new ServerReadyRequest());
        var metadata = await client.ServerMetadataAsync(new ServerMetadataRequest());
        var model = await client.ModelMetadataAsync(new ModelMetadataRequest { Name = "mlp" });
        var pinned = await client.ModelMetadataAsync(new ModelMetadataRequest { Name = "mlp", Version = "1" });
        var modelReady = await client.ModelReadyAsync(new ModelReadyRequest { Name = "mlp" });
        var brokenReady = await client.ModelReadyAsync(new ModelReadyRequest { Name = "broken" });
        var index = await client.RepositoryIndexAsync(new RepositoryIndexRequest());
        var readyOnly = await client.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = true });
        await client.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "plain" });
        var unloaded = await client.ModelReadyAsync(new ModelReadyRequest { Name = "plain" });
        await client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "plain" });
        var reloaded = await client.ModelReadyAsync(new ModelReadyRequest { Name = "plain" });

        Assert.IsTrue(live.Live && ready.Ready);
        Assert.AreEqual("onnxbridge", metadata.Name);
        CollectionAssert.AreEquivalent(new[] { "binary_tensor_data", "model_repository", "model_configuration", "statistics" }, metadata.Extensions.ToArray());
        CollectionAssert.AreEqual(new[] { "1", "2" }, model.Versions.ToArray());
        CollectionAssert.AreEqual(new[] { "1" }, pinned.Versions.ToArray());
        Assert.AreEqual("onnxruntime_onnx", model.Platform);
        Assert.AreEqual(("input", "FP32"), (model.Inputs[0].Name, model.Inputs[0].Datatype));
        CollectionAssert.AreEqual(new long[] { -1, 8 }, model.Inputs[0].Shape.ToArray());
        CollectionAssert.AreEqual(new long[] { -1, 3 }, model.Outputs[0].Shape.ToArray());
        Assert.AreEqual("CPUExecutionProvider", model.Properties["execution_provider"]);
        Assert.IsTrue(modelReady.Ready);
        Assert.IsFalse(brokenReady.Ready);
        Assert.IsTrue(index.Models.Any(m => m.Name == "broken" && m.State == "UNAVAILABLE"));
        Assert.IsFalse(readyOnly.Models.Any(m => m.State != "READY"));
        Assert.IsFalse(unloaded.Ready);
        Assert.IsTrue(reloaded.Ready);
    }

    [TestMethod]
    public async Task ModelInfer_RawAndTypedContents_GiveWhatRestGives()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress!);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var rows = Requests.Rows(3, seed: 11);

        var raw = Request("mlp", [3, 8], "FP32");
        raw.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(rows.AsSpan())));
        raw.Id = "grpc-1";
        var typed = Request("mlp", [3, 8], "FP32");
        typed.Inputs[0].Contents = new InferTensorContents { Fp32Contents = { rows } };
        var rawAnswer = await client.ModelInferAsync(raw);
        var typedAnswer = await client.ModelInferAsync(typed);
        var rest = await server.PostAsync("/v2/models/mlp/infer", Requests.Json(rows, 3));

        Assert.AreEqual(("mlp", "2", "grpc-1"), (rawAnswer.ModelName, rawAnswer.ModelVersion, rawAnswer.Id));
        Assert.AreEqual(("output", "FP32"), (rawAnswer.Outputs[0].Name, rawAnswer.Outputs[0].Datatype));
        CollectionAssert.AreEqual(new long[] { 3, 3 }, rawAnswer.Outputs[0].Shape.ToArray());
        var expected = Requests.Floats(rest.Body);
        CollectionAssert.AreEqual(expected, Floats(rawAnswer), "gRPC with raw contents gives REST's answer");
        CollectionAssert.AreEqual(expected, Floats(typedAnswer), "gRPC with typed contents gives REST's answer");
    }

    [TestMethod]
    public async Task ModelConfigAndStatistics_GiveWhatRestGives()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress!);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var ok = Request("mlp", [2, 8], "FP32");
        ok.Inputs[0].Contents = new InferTensorContents { Fp32Contents = { Requests.Rows(2, seed: 5) } };
        await client.ModelInferAsync(ok);
        await Assert.ThrowsExactlyAsync<RpcException>(async () => await client.ModelInferAsync(Request("mlp", [1, 7], "FP32")));

        var config = (await client.ModelConfigAsync(new ModelConfigRequest { Name = "mlp" })).Config;
        var pinned = (await client.ModelConfigAsync(new ModelConfigRequest { Name = "mlp", Version = "1" })).Config;
        var (_, restConfig) = await server.GetAsync("/v2/models/mlp/config");
        var version2 = (await client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "mlp", Version = "2" })).ModelStats.Single();
        var perVersion = (await client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "mlp" })).ModelStats;
        var everything = (await client.ModelStatisticsAsync(new ModelStatisticsRequest())).ModelStats;
        var (_, restStats) = await server.GetAsync("/v2/models/mlp/versions/2/stats");
        var unknownConfig = await Assert.ThrowsExactlyAsync<RpcException>(async () => await client.ModelConfigAsync(new ModelConfigRequest { Name = "nope" }));
        var unknownVersion = await Assert.ThrowsExactlyAsync<RpcException>(async () => await client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "mlp", Version = "9" }));

        Assert.AreEqual(("mlp", "onnxruntime_onnx", 64), (config.Name, config.Platform, config.MaxBatchSize));
        Assert.AreEqual(Grpc.Triton.DataType.TypeFp32, config.Input[0].DataType);
        CollectionAssert.AreEqual(new long[] { 8 }, config.Input[0].Dims.ToArray(), "dimensions after the batch dimension");
        Assert.AreEqual(2000UL, config.DynamicBatching.MaxQueueDelayMicroseconds);
        Assert.AreEqual(Grpc.Triton.ModelVersionPolicy.PolicyChoiceOneofCase.All, config.VersionPolicy.PolicyChoiceCase);
        Assert.AreEqual(config, pinned);
        Assert.AreEqual(restConfig!.ToJsonString(), System.Text.Json.Nodes.JsonNode.Parse(new JsonFormatter(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true).WithFormatDefaultValues(true)).Format(config))!.ToJsonString(), "REST's config is the message's JSON form");
        Assert.AreEqual(("mlp", "2", 2UL, 1UL), (version2.Name, version2.Version, version2.InferenceCount, version2.ExecutionCount));
        Assert.AreEqual((1UL, 1UL), (version2.InferenceStats.Success.Count, version2.InferenceStats.Fail.Count));
        Assert.IsTrue(version2.InferenceStats.Success.Ns > 0 && version2.LastInference > 1_700_000_000_000UL);
        var rest = restStats!["model_stats"]![0]!;
        Assert.AreEqual((rest["inference_count"]!.GetValue<ulong>(), rest["execution_count"]!.GetValue<ulong>(), rest["inference_stats"]!["success"]!["ns"]!.GetValue<ulong>()),
            (version2.InferenceCount, version2.ExecutionCount, version2.InferenceStats.Success.Ns), "REST reads the same counters");
        CollectionAssert.AreEqual(new[] { "1", "2" }, perVersion.Select(s => s.Version).ToArray());
        Assert.IsTrue(everything.Count > perVersion.Count && everything.Any(s => s.Name == "plain"));
        Assert.AreEqual(StatusCode.NotFound, unknownConfig.StatusCode);
        Assert.AreEqual(StatusCode.NotFound, unknownVersion.StatusCode);
    }

    [TestMethod]
    public async Task ModelInfer_EveryServedDatatype_RoundTripsThroughIdentity()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress!);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var failures = new List<string>();

        foreach (var type in TestRepository.IdentityTypes)
        {
            var datatype = Protocol.Datatypes.NameOf(type)!;
            var size = Onnx.Tensors.ElementTypes.SizeOf(type);
            var bytes = Enumerable.Range(0, 2 * 3 * size).Select(i => type == Onnx.Proto.TensorProto.Types.DataType.Bool ? (byte)(i % 2) : (byte)(i % 7 + 1)).ToArray();
            if (type is Onnx.Proto.TensorProto.Types.DataType.Bool) bytes = [.. bytes.Take(6)];
            var request = Request($"identity_{TestRepository.Name(type)}", [2, 3], datatype);
            request.RawInputContents.Add(ByteString.CopyFrom(bytes));

            var answer = await client.ModelInferAsync(request);

            if (answer.Outputs[0].Datatype != datatype || !answer.RawOutputContents[0].ToByteArray().SequenceEqual(bytes))
                failures.Add($"{datatype}: got {answer.Outputs[0].Datatype}, {answer.RawOutputContents[0].Length} bytes");
        }
        Assert.AreEqual(0, failures.Count, string.Join("; ", failures));
    }

    [TestMethod]
    public async Task Refusals_AreTritonsGrpcStatuses_WithRestsMessages()
    {
        await using var server = await TestServer.StartAsync(s => s with { MaxRequestBodyBytes = 1 << 16 });
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress!);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        var wrongLength = Request("mlp", [2, 8], "FP32");
        wrongLength.RawInputContents.Add(ByteString.CopyFrom(new byte[31]));
        var hugeClaim = Request("sequence", [8, 104857, 20], "FP32");
        hugeClaim.Inputs[0].Contents = new InferTensorContents();
        var tooBig = Request("mlp", [64, 8], "FP32");
        tooBig.RawInputContents.Add(ByteString.CopyFrom(new byte[1 << 17]));
        var cases = new (ModelInferRequest Request, StatusCode Code, string Message)[]
        {
            (Request("nope", [1, 8], "FP32"), StatusCode.NotFound, "unknown model 'nope'"),
            (Request("broken", [1, 8], "FP32"), StatusCode.Unavailable, "model 'broken' is not ready"),
            (Request("mlp", [1, 7], "FP32"), StatusCode.InvalidArgument, "input 'input' has shape [1, 7], but the model expects float32[batch, 8]"),
            (Request("mlp", [1, 8], "FP64"), StatusCode.InvalidArgument, "input 'input' has datatype FP64, but the model expects FP32"),
            (wrongLength, StatusCode.InvalidArgument, "input 'input': shape [2, 8] of FP32 needs 64 bytes, raw_input_contents has 31"),
            (hugeClaim, StatusCode.InvalidArgument, "needs 16777120 values, fp32_contents has 0"),
            (Request("mlp", [1, 8], "FP32"), StatusCode.InvalidArgument, "input 'input' has no contents"),
            (tooBig, StatusCode.ResourceExhausted, ""),
        };

        foreach (var (request, code, message) in cases)
        {
            var error = await Assert.ThrowsExactlyAsync<RpcException>(async () => await client.ModelInferAsync(request));
            Assert.AreEqual(code, error.StatusCode, error.Status.Detail);
            StringAssert.Contains(error.Status.Detail, message);
        }
    }

    private static ModelInferRequest Request(string model, long[] shape, string datatype)
    {
        var request = new ModelInferRequest { ModelName = model };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = model.StartsWith("mlp", StringComparison.Ordinal) ? "input" : "x", Datatype = datatype };
        input.Shape.AddRange(shape);
        request.Inputs.Add(input);
        return request;
    }

    private static float[] Floats(ModelInferResponse response) => MemoryMarshal.Cast<byte, float>(response.RawOutputContents[0].Span).ToArray();
}
