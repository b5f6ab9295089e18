namespace OnnxBridge.Host.Protocol;

/// <summary>
/// A request the host refuses, with the HTTP status the protocol gives it (400 bad request, 404
/// unknown model or version, 503 not ready) and a message naming the problem and the value.
/// Becomes <c>{"error": "..."}</c>; never a stack trace.
/// </summary>
internal sealed class InferenceError : OnnxBridgeException
{
    public InferenceError(int status, string message) : base(message) => Status = status;

    public InferenceError() : this(400, "bad request") { }

    public InferenceError(string message) : this(400, message) { }

    public InferenceError(string message, Exception inner) : base(message, inner) => Status = 400;

    /// <summary>"inference failed: ..." for a run ONNX Runtime refused, in ONNX Runtime's words (the server's file paths stay out of it).</summary>
    public static InferenceError RunFailed(Exception e) =>
        e as InferenceError ?? BadRequest($"inference failed: {(e is Runtime.Sessions.InferenceException { InnerException: { } inner } ? inner : e).Message.Trim()}");

    /// <summary>The HTTP status code.</summary>
    public int Status { get; }

    public static InferenceError BadRequest(string message) => new(400, message);

    public static InferenceError NotFound(string message) => new(404, message);

    public static InferenceError Unavailable(string message) => new(503, message);
}
