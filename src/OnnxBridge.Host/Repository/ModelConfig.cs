using System.Globalization;

namespace OnnxBridge.Host.Repository;

/// <summary>
/// What the host reads from a model's Triton <c>config.pbtxt</c>: the platform, <c>max_batch_size</c>
/// (0: no batch dimension, no batching), <c>dynamic_batching { max_queue_delay_microseconds }</c>,
/// <c>version_policy</c> and <c>default_model_filename</c>. Other fields are accepted and ignored.
/// </summary>
internal sealed record ModelConfig(int MaxBatchSize, bool DynamicBatching, TimeSpan MaxQueueDelay)
{
    /// <summary>The model file's name in each version folder (Triton's default_model_filename).</summary>
    public const string DefaultFilename = "model.onnx";

    /// <summary>The configuration of a model without <c>config.pbtxt</c>: no batching, Triton's default policy (the highest version).</summary>
    public static ModelConfig Default { get; } = new(0, false, TimeSpan.Zero);

    /// <summary>Which version folders are served; Triton's default is the highest one.</summary>
    public VersionPolicy Versions { get; init; } = VersionPolicy.Latest(1);

    /// <summary>The model file in each version folder.</summary>
    public string ModelFilename { get; init; } = DefaultFilename;

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
        var filename = proto.Scalar("default_model_filename") ?? DefaultFilename;
        if (filename.Length == 0 || filename is "." or ".." || filename.IndexOfAny(['/', '\\', '\0']) >= 0)
            throw new FormatException($"{path}: default_model_filename '{filename}' must be a plain file name");
        return new ModelConfig(maxBatch, batching is not null && maxBatch > 0, TimeSpan.FromMicroseconds(delay))
        {
            Versions = proto.Message("version_policy") is { } policy ? VersionPolicy.Parse(policy, path) : VersionPolicy.Latest(1),
            ModelFilename = filename,
        };
    }

    internal static int ParseInt(string text, string path, string field) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value : throw new FormatException($"{path}: {field} '{text}' is not an integer");
}

/// <summary>
/// Triton's <c>version_policy</c>: the highest <see cref="Count"/> versions (<c>latest { num_versions }</c>,
/// Triton's default with 1), every version (<c>all { }</c>), or the listed ones (<c>specific { versions }</c>).
/// </summary>
internal sealed record VersionPolicy(string Kind, int Count, IReadOnlyList<long> Listed)
{
    public static VersionPolicy Latest(int count) => new("latest", count, []);

    public static VersionPolicy All { get; } = new("all", 0, []);

    /// <summary>The versions to serve among <paramref name="available"/>.</summary>
    public IEnumerable<long> Select(IEnumerable<long> available) => Kind switch
    {
        "latest" => available.OrderDescending().Take(Count),
        "specific" => available.Where(Listed.Contains),
        _ => available,
    };

    /// <summary>The policy as config.pbtxt writes it.</summary>
    public override string ToString() => Kind switch
    {
        "latest" => $"latest {{ num_versions: {Count} }}",
        "specific" => $"specific {{ versions: [{string.Join(", ", Listed)}] }}",
        _ => "all { }",
    };

    internal static VersionPolicy Parse(TextProto policy, string path)
    {
        if (policy.Message("latest") is { } latest)
        {
            var count = latest.Scalar("num_versions") is { } n ? ModelConfig.ParseInt(n, path, "version_policy.latest.num_versions") : 1;
            return count > 0 ? Latest(count) : throw new FormatException($"{path}: version_policy latest num_versions must be positive, got {count}");
        }
        if (policy.Message("all") is not null) return All;
        if (policy.Message("specific") is { } specific)
        {
            var versions = specific["versions"].OfType<string>()
                .Select(v => long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0
                    ? version : throw new FormatException($"{path}: version_policy specific version '{v}' is not a positive integer"))
                .ToList();
            return versions.Count > 0 ? new VersionPolicy("specific", 0, versions) : throw new FormatException($"{path}: version_policy specific lists no versions");
        }
        throw new FormatException($"{path}: version_policy must hold latest, all or specific");
    }
}
