using System.Globalization;

namespace OnnxBridge.Host.Repository;

/// <summary>
/// What the host reads from a model's Triton <c>config.pbtxt</c>: the platform, <c>max_batch_size</c>
/// (0: no batch dimension, no batching) and <c>dynamic_batching { max_queue_delay_microseconds }</c>.
/// Other fields are accepted and ignored.
/// </summary>
internal sealed record ModelConfig(int MaxBatchSize, bool DynamicBatching, TimeSpan MaxQueueDelay)
{
    /// <summary>The configuration of a model without <c>config.pbtxt</c>: no batching.</summary>
    public static ModelConfig Default { get; } = new(0, false, TimeSpan.Zero);

    /// <summary>Reads <paramref name="path"/>, or returns <see cref="Default"/> when it does not exist.</summary>
    /// <exception cref="FormatException">The file is not valid or names another platform; the message names the file.</exception>
    public static ModelConfig Read(string path)
    {
        if (!File.Exists(path)) return Default;
        var info = new FileInfo(path);
        if (info.Length > 1 << 20) throw new FormatException($"{path}: larger than 1 MiB");
        TextProto proto;
        try
        {
            proto = TextProto.Parse(File.ReadAllText(path));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
        var platform = proto.Scalar("platform");
        var backend = proto.Scalar("backend");
        if ((platform is not null && platform != "onnxruntime_onnx") || (backend is not null && backend != "onnxruntime"))
            throw new FormatException($"{path}: platform '{platform ?? backend}' is not served here; this host runs onnxruntime_onnx models");
        var maxBatch = proto.Scalar("max_batch_size") is { } text ? ParseInt(text, path, "max_batch_size") : 0;
        if (maxBatch < 0) throw new FormatException($"{path}: max_batch_size cannot be negative, got {maxBatch}");
        var batching = proto.Message("dynamic_batching");
        var delay = batching?.Scalar("max_queue_delay_microseconds") is { } us ? ParseInt(us, path, "max_queue_delay_microseconds") : 0;
        if (delay < 0) throw new FormatException($"{path}: max_queue_delay_microseconds cannot be negative, got {delay}");
        return new ModelConfig(maxBatch, batching is not null && maxBatch > 0, TimeSpan.FromMicroseconds(delay));
    }

    private static int ParseInt(string text, string path, string field) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value : throw new FormatException($"{path}: {field} '{text}' is not an integer");
}
