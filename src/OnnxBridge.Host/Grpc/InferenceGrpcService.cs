using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Google.Protobuf;
using global::Grpc.Core;
using OnnxBridge.Host.Models;
using OnnxBridge.Host.Observability;
using OnnxBridge.Host.Protocol;
using OnnxBridge.Host.Repository;
using OnnxBridge.Onnx.Tensors;

namespace OnnxBridge.Host.Grpc;

/// <summary>
/// The Open Inference Protocol's gRPC API (<c>inference.GRPCInferenceService</c>) over the same
/// registry, batcher, checks, limits and metrics as the REST routes. Refusals become gRPC statuses
/// as Triton maps them: INVALID_ARGUMENT (a bad request), NOT_FOUND (unknown model or version),
/// UNAVAILABLE (not ready), RESOURCE_EXHAUSTED (over a size limit). Outputs always come back as
/// <c>raw_output_contents</c>, as Triton answers.
/// </summary>
internal sealed class InferenceGrpcService(ModelRegistry registry, HostMetrics metrics) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = registry.Ready });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        Guard(() =>
        {
            try
            {
                registry.Find(request.Name, Version(request.Version));
                return new ModelReadyResponse { Ready = true };
            }
            catch (InferenceError e) when (e.Status == 503)
            {
                return new ModelReadyResponse { Ready = false };
            }
        });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse
        {
            Name = "onnxbridge",
            Version = typeof(InferenceGrpcService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0",
            Extensions = { "binary_tensor_data", "model_repository", "model_configuration", "statistics" },
        });

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) =>
        Guard(() =>
        {
            var model = registry.Find(request.Name, Version(request.Version));
            var response = new ModelMetadataResponse { Name = model.Name, Platform = "onnxruntime_onnx" };
            response.Versions.AddRange(request.Version.Length == 0
                ? registry.LoadedVersions(model.Name).Select(v => v.ToString(CultureInfo.InvariantCulture))
                : [model.VersionText]);
            response.Inputs.AddRange(model.Session.Inputs.Select(Describe));
            response.Outputs.AddRange(model.Session.Outputs.Select(Describe));
            response.Properties["execution_provider"] = model.Session.ProviderDescription;
            return response;
        });

    public override Task<ModelConfigResponse> ModelConfig(ModelConfigRequest request, ServerCallContext context) =>
        Guard(() => new ModelConfigResponse { Config = TritonConfig.Of(registry.Find(request.Name, Version(request.Version))) });

    /// <summary>Triton's statistics extension: an empty name asks for every model, an empty version for every served version.</summary>
    public override Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context) =>
        Guard(() => new ModelStatisticsResponse { ModelStats = { registry.Statistics(request.Name.Length == 0 ? null : request.Name, Version(request.Version)) } });

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        var start = Stopwatch.GetTimestamp();
        var status = 200;
        string? served = null;
        try
        {
            var model = registry.Acquire(request.ModelName, Version(request.ModelVersion));
            served = model.VersionText;
            var succeeded = false;
            try
            {
                var (inputs, rows) = GrpcTensors.Inputs(request, model);
                var wanted = request.Outputs.Count == 0 ? model.Session.OutputNames : Requested(request, model);
                var outputs = await model.RunAsync(inputs, rows).ConfigureAwait(false);
                succeeded = true;
                var response = new ModelInferResponse { ModelName = model.Name, ModelVersion = model.VersionText, Id = request.Id };
                foreach (var name in wanted)
                {
                    var tensor = outputs.First(o => o.Name == name).Tensor;
                    var output = new ModelInferResponse.Types.InferOutputTensor { Name = name, Datatype = Datatypes.NameOf(tensor.ElementType) ?? ElementTypes.Name(tensor.ElementType) };
                    output.Shape.AddRange(tensor.Shape);
                    response.Outputs.Add(output);
                    response.RawOutputContents.Add(UnsafeByteOperations.UnsafeWrap(tensor.Bytes));
                }
                return response;
            }
            finally
            {
                model.Statistics.Request(succeeded, Stopwatch.GetElapsedTime(start));
                await model.ReleaseAsync().ConfigureAwait(false);
            }
        }
        catch (InferenceError e)
        {
            status = e.Status;
            throw ToRpc(e);
        }
        catch (Runtime.Sessions.InferenceException e)
        {
            var error = InferenceError.RunFailed(e);
            status = error.Status;
            throw ToRpc(error);
        }
        finally
        {
            metrics.Request(registry.MetricLabel(request.ModelName), served ?? "", status, Stopwatch.GetElapsedTime(start));
        }
    }

    public override Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context)
    {
        var response = new RepositoryIndexResponse();
        foreach (var entry in registry.Index().Where(e => !request.Ready || e.State == "READY"))
            response.Models.Add(new RepositoryIndexResponse.Types.ModelIndex { Name = entry.Name, Version = entry.Version ?? "", State = entry.State, Reason = entry.Reason });
        return Task.FromResult(response);
    }

    public override async Task<RepositoryModelLoadResponse> RepositoryModelLoad(RepositoryModelLoadRequest request, ServerCallContext context)
    {
        await GuardAsync(() => registry.LoadAsync(request.ModelName)).ConfigureAwait(false);
        return new RepositoryModelLoadResponse();
    }

    public override async Task<RepositoryModelUnloadResponse> RepositoryModelUnload(RepositoryModelUnloadRequest request, ServerCallContext context)
    {
        await GuardAsync(() => registry.UnloadAsync(request.ModelName)).ConfigureAwait(false);
        return new RepositoryModelUnloadResponse();
    }

    /// <summary>The protocol's empty version means "the server chooses".</summary>
    private static string? Version(string version) => version.Length == 0 ? null : version;

    private static List<string> Requested(ModelInferRequest request, ServedModel model)
    {
        var names = new List<string>();
        foreach (var output in request.Outputs)
        {
            InputChecks.CheckOutput(model, output.Name, names);
            names.Add(output.Name);
        }
        return names;
    }

    private static ModelMetadataResponse.Types.TensorMetadata Describe(Runtime.Sessions.TensorSignature signature)
    {
        var tensor = new ModelMetadataResponse.Types.TensorMetadata { Name = signature.Name, Datatype = Datatypes.NameOf(signature.ElementType) ?? ElementTypes.Name(signature.ElementType) };
        tensor.Shape.AddRange(signature.Shape.Select(d => d < 0 ? -1L : d));
        return tensor;
    }

    private static Task<T> Guard<T>(Func<T> action)
    {
        try
        {
            return Task.FromResult(action());
        }
        catch (InferenceError e)
        {
            throw ToRpc(e);
        }
    }

    private static async Task GuardAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (InferenceError e)
        {
            throw ToRpc(e);
        }
    }

    /// <summary>A refusal as the gRPC status Triton gives it, with the same message REST gives.</summary>
    public static RpcException ToRpc(InferenceError e) => new(new Status(e.Status switch
    {
        404 => StatusCode.NotFound,
        503 => StatusCode.Unavailable,
        413 => StatusCode.ResourceExhausted,
        _ => StatusCode.InvalidArgument,
    }, e.Message));
}
