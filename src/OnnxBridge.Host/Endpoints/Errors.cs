using System.Text.Json;

namespace OnnxBridge.Host.Endpoints;

/// <summary>Error bodies as the protocol writes them: <c>{"error": "..."}</c>, never a stack trace.</summary>
internal static class Errors
{
    public static Task Write(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message }));
    }

    public static IResult Result(int status, string message) =>
        Results.Json(new Dictionary<string, string> { ["error"] = message }, statusCode: status);
}
