using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using OnnxBridge.Host.Models;
using OnnxBridge.Host.Observability;
using OnnxBridge.Host.Protocol;
using OnnxBridge.Host.Repository;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Host.Endpoints;

/// <summary>The Open Inference Protocol's REST routes (KServe v2), with the model repository and binary tensor data extensions.</summary>
internal static class ProtocolEndpoints
{
    /// <summary>The header that gives the JSON part's length when binary tensor data follows it.</summary>
    public const string HeaderLength = "Inference-Header-Content-Length";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v2/health/live", () => Results.Json(new { live = true }));
        app.MapGet("/v2/health/ready", (ModelRegistry registry) =>
            registry.Ready ? Results.Json(new { ready = true }) : Results.Json(new { ready = false }, statusCode: 503));
        app.MapGet("/v2", () => Results.Json(new
        {
            name = "onnxbridge",
            version = typeof(ProtocolEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0",
            extensions = new[] { "binary_tensor_data", "model_repository", "model_configuration", "statistics" },
        }));

        app.MapGet("/v2/models/{name}", (string name, ModelRegistry registry) => Guard(() => Metadata(registry, name, null)));
        app.MapGet("/v2/models/{name}/versions/{version}", (string name, string version, ModelRegistry registry) => Guard(() => Metadata(registry, name, version)));
        app.MapGet("/v2/models/{name}/config", (string name, ModelRegistry registry) => Guard(() => Config(registry.Find(name, null))));
        app.MapGet("/v2/models/{name}/versions/{version}/config", (string name, string version, ModelRegistry registry) => Guard(() => Config(registry.Find(name, version))));
        app.MapGet("/v2/models/stats", (ModelRegistry registry) => Statistics(registry, null, null));
        app.MapGet("/v2/models/{name}/stats", (string name, ModelRegistry registry) => Guard(() => Statistics(registry, name, null)));
        app.MapGet("/v2/models/{name}/versions/{version}/stats", (string name, string version, ModelRegistry registry) => Guard(() => Statistics(registry, name, version)));
        app.MapGet("/v2/models/{name}/ready", (string name, ModelRegistry registry) => Guard(() => Ready(registry, name, null)));
        app.MapGet("/v2/models/{name}/versions/{version}/ready", (string name, string version, ModelRegistry registry) => Guard(() => Ready(registry, name, version)));
        app.MapPost("/v2/models/{name}/infer", (string name, HttpContext context, ModelRegistry registry, HostMetrics metrics, HostSettings settings) =>
            InferAsync(context, registry, metrics, settings, name, null));
        app.MapPost("/v2/models/{name}/versions/{version}/infer", (string name, string version, HttpContext context, ModelRegistry registry, HostMetrics metrics, HostSettings settings) =>
            InferAsync(context, registry, metrics, settings, name, version));

        app.MapPost("/v2/repository/index", (ModelRegistry registry) => Results.Json(registry.Index().Select(e => new Dictionary<string, string?>
        {
            ["name"] = e.Name, ["version"] = e.Version, ["state"] = e.State, ["reason"] = e.Reason,
        })));
        app.MapPost("/v2/repository/models/{name}/load", (string name, ModelRegistry registry) => GuardAsync(async () =>
        {
            await registry.LoadAsync(name).ConfigureAwait(false);
            return Results.Json(new { });
        }));
        app.MapPost("/v2/repository/models/{name}/unload", (string name, ModelRegistry registry) => GuardAsync(async () =>
        {
            await registry.UnloadAsync(name).ConfigureAwait(false);
            return Results.Json(new { });
        }));
    }

    private static IResult Metadata(ModelRegistry registry, string name, string? version)
    {
        var model = registry.Find(name, version);
        var session = model.Session;
        return Results.Json(new
        {
            name = model.Name,
            versions = version is null ? registry.LoadedVersions(name).Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray() : [model.VersionText],
            platform = "onnxruntime_onnx",
            inputs = session.Inputs.Select(Describe).ToArray(),
            outputs = session.Outputs.Select(Describe).ToArray(),
            parameters = new Dictionary<string, object>
            {
                ["execution_provider"] = session.ProviderDescription,
                ["max_batch_size"] = model.Config.MaxBatchSize,
                ["dynamic_batching"] = model.Batcher is not null,
                ["max_queue_delay_microseconds"] = (long)model.Config.MaxQueueDelay.TotalMicroseconds,
            },
        });
    }

    private static object Describe(TensorSignature signature) => new
    {
        name = signature.Name,
        datatype = Datatypes.NameOf(signature.ElementType) ?? ElementTypes.Name(signature.ElementType),
        shape = signature.Shape.Select(d => d < 0 ? -1 : d).ToArray(),
    };

    private static IResult Config(ServedModel model) => Results.Text(TritonConfig.JsonOf(model), "application/json");

    private static IResult Statistics(ModelRegistry registry, string? name, string? version) =>
        Results.Json(new { model_stats = registry.Statistics(name, version).Select(ModelStatistics.Json).ToArray() });

    private static IResult Ready(ModelRegistry registry, string name, string? version)
    {
        var model = registry.Find(name, version);
        return Results.Json(new { name = model.Name, version = model.VersionText, ready = true });
    }

    private static async Task<IResult> InferAsync(HttpContext context, ModelRegistry registry, HostMetrics metrics, HostSettings settings, string name, string? version)
    {
        var start = Stopwatch.GetTimestamp();
        var (status, result, servedVersion) = await InferCoreAsync(context, registry, settings, name, version).ConfigureAwait(false);
        // The version label is the version that served the request, or empty when none did.
        metrics.Request(registry.MetricLabel(name), servedVersion ?? "", status, Stopwatch.GetElapsedTime(start));
        return result;
    }

    private static async Task<(int Status, IResult Result, string? Version)> InferCoreAsync(HttpContext context, ModelRegistry registry, HostSettings settings, string name, string? version)
    {
        ServedModel model;
        try
        {
            model = registry.Acquire(name, version);
        }
        catch (InferenceError e)
        {
            return (e.Status, Errors.Result(e.Status, e.Message), null);
        }
        var start = Stopwatch.GetTimestamp();
        var succeeded = false;
        try
        {
            var body = await RequestBodies.ReadAsync(context, settings.MaxRequestBodyBytes).ConfigureAwait(false);
            var request = InferRequestReader.Read(body, HeaderValue(context.Request), model);
            if (request.Id is not null) context.Items["request-id"] = request.Id;
            var outputs = await model.RunAsync(request.Inputs, request.BatchSize).ConfigureAwait(false);
            succeeded = true;
            var response = InferResponseWriter.Write(model, request, outputs);
            var answer = RequestBodies.Encoded(context, response.Body);
            if (response.JsonLength is { } length)
            {
                // The JSON part's length before compression, as Triton gives it.
                context.Response.Headers[HeaderLength] = length.ToString(CultureInfo.InvariantCulture);
                return (200, Results.Bytes(answer, "application/octet-stream"), model.VersionText);
            }
            return (200, Results.Bytes(answer, "application/json"), model.VersionText);
        }
        catch (InferenceError e)
        {
            // An oversized body may be left partly unread: this connection is done after the answer.
            if (e.Status == StatusCodes.Status413PayloadTooLarge) context.Response.Headers.Connection = "close";
            return (e.Status, Errors.Result(e.Status, e.Message), model.VersionText);
        }
        catch (Runtime.Sessions.InferenceException e)
        {
            var error = InferenceError.RunFailed(e);
            return (error.Status, Errors.Result(error.Status, error.Message), model.VersionText);
        }
        finally
        {
            model.Statistics.Request(succeeded, Stopwatch.GetElapsedTime(start));
            await model.ReleaseAsync().ConfigureAwait(false);
        }
    }

    private static long? HeaderValue(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(HeaderLength, out var values)) return null;
        return long.TryParse(values.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            ? length : throw InferenceError.BadRequest($"{HeaderLength} '{values}' is not a non-negative integer");
    }

    private static IResult Guard(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (InferenceError e)
        {
            return Errors.Result(e.Status, e.Message);
        }
    }

    private static async Task<IResult> GuardAsync(Func<Task<IResult>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (InferenceError e)
        {
            return Errors.Result(e.Status, e.Message);
        }
    }
}
