using System.Collections.Immutable;
using System.Globalization;
using OnnxBridge.Host.Observability;
using OnnxBridge.Host.Protocol;
using OnnxBridge.Host.Repository;

namespace OnnxBridge.Host.Models;

/// <summary>One row of the repository index: a model version and its state (READY, UNAVAILABLE).</summary>
internal sealed record IndexEntry(string Name, string? Version, string State, string Reason);

/// <summary>
/// The models served from a repository in Triton's layout (<c>REPO/NAME/VERSION/model.onnx</c>,
/// optional <c>REPO/NAME/config.pbtxt</c>). The version folders the config's <c>version_policy</c>
/// selects are loaded (Triton's default: the highest); requests without a version go to the highest. Lookups read an immutable snapshot; loads and unloads are serialized
/// and swap the snapshot, retiring replaced versions only after their requests in flight finish.
/// </summary>
internal sealed partial class ModelRegistry : IAsyncDisposable
{
    private readonly HostSettings _settings;
    private readonly HostMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private volatile ImmutableDictionary<string, Entry> _models = ImmutableDictionary.Create<string, Entry>(StringComparer.Ordinal);

    public ModelRegistry(HostSettings settings, HostMetrics? metrics, ILogger<ModelRegistry> logger)
    {
        _settings = settings;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>True once the startup load has finished.</summary>
    public bool Ready { get; private set; }

    /// <summary>Loads every model in the repository; models that fail are listed as UNAVAILABLE with the reason.</summary>
    public async Task LoadAllAsync()
    {
        if (!Directory.Exists(_settings.Repository))
            throw new DirectoryNotFoundException($"model repository '{_settings.Repository}' does not exist");
        foreach (var folder in Directory.GetDirectories(_settings.Repository).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(folder);
            if (name.StartsWith('.')) continue;
            try
            {
                await LoadAsync(name).ConfigureAwait(false);
            }
            catch (InferenceError e)
            {
                LogLoadFailed(_logger, name, e.Message);
            }
        }
        Ready = true;
    }

    /// <summary>(Re)loads a model: every version folder now present. On failure the versions already served stay.</summary>
    /// <exception cref="InferenceError">404 when the repository has no such model, 400 when it cannot be loaded.</exception>
    public async Task LoadAsync(string name)
    {
        var folder = ModelFolder(name);
        await _changes.WaitAsync().ConfigureAwait(false);
        try
        {
            var loaded = ImmutableSortedDictionary.CreateBuilder<long, ServedModel>();
            try
            {
                var config = WithOverrides(ModelConfig.Read(Path.Combine(folder, "config.pbtxt")));
                var available = Versions(folder, config.ModelFilename).ToDictionary(v => v.Version, v => v.Path);
                foreach (var version in config.Versions.Select(available.Keys).Order())
                    loaded[version] = ServedModel.Open(name, version, available[version], config, _settings.Runtime, _metrics, m => LogProvider(_logger, name, m));
                if (loaded.Count == 0)
                    throw new FormatException(available.Count == 0
                        ? $"model '{name}' has no version folder with a {config.ModelFilename} (expected {Path.Combine(folder, "1", config.ModelFilename)})"
                        : $"model '{name}': version_policy {config.Versions} selects none of the versions present ({string.Join(", ", available.Keys.Order())})");
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or OnnxBridgeException)
            {
                foreach (var model in loaded.Values) await model.RetireAsync().ConfigureAwait(false);
                var reason = WithoutServerPaths(e.Message);
                _models = _models.TryGetValue(name, out var current) && current.Versions.Count > 0
                    ? _models.SetItem(name, current with { Reason = $"last load failed: {reason}" })
                    : _models.SetItem(name, new Entry(ImmutableSortedDictionary<long, ServedModel>.Empty, reason));
                throw InferenceError.BadRequest($"failed to load model '{name}': {reason}");
            }
            var previous = _models.TryGetValue(name, out var old) ? old.Versions.Values : [];
            _models = _models.SetItem(name, new Entry(loaded.ToImmutable(), ""));
            foreach (var model in previous) await model.RetireAsync().ConfigureAwait(false);
            LogLoaded(_logger, name, string.Join(", ", loaded.Keys), loaded.Values.First().Session.ProviderDescription);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Stops serving a model; requests in flight finish first.</summary>
    public async Task UnloadAsync(string name)
    {
        ModelFolder(name);
        await _changes.WaitAsync().ConfigureAwait(false);
        try
        {
            var previous = _models.TryGetValue(name, out var old) ? old.Versions.Values : [];
            _models = _models.SetItem(name, new Entry(ImmutableSortedDictionary<long, ServedModel>.Empty, "unloaded"));
            foreach (var model in previous) await model.RetireAsync().ConfigureAwait(false);
            LogUnloaded(_logger, name);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Every model in the repository, one row per loaded version (or one UNAVAILABLE row).</summary>
    public IReadOnlyList<IndexEntry> Index()
    {
        var snapshot = _models;
        var names = Directory.Exists(_settings.Repository)
            ? Directory.GetDirectories(_settings.Repository).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.'))
            : [];
        var rows = new List<IndexEntry>();
        foreach (var name in names.Union(snapshot.Keys).Order(StringComparer.Ordinal))
        {
            if (snapshot.TryGetValue(name, out var entry) && entry.Versions.Count > 0)
                rows.AddRange(entry.Versions.Keys.Select(v => new IndexEntry(name, v.ToString(CultureInfo.InvariantCulture), "READY", entry.Reason))); // a failed reload says so beside the versions still served
            else
                rows.Add(new IndexEntry(name, null, "UNAVAILABLE", entry?.Reason ?? "not loaded"));
        }
        return rows;
    }

    /// <summary>
    /// The version a request addresses (the highest when <paramref name="version"/> is null), counted
    /// in; the caller must <see cref="ServedModel.ReleaseAsync"/> it.
    /// </summary>
    /// <exception cref="InferenceError">404 unknown model or version, 503 known but not ready.</exception>
    public ServedModel Acquire(string name, string? version)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var model = Find(name, version);
            if (model.TryAcquire()) return model;
            // Retired between the lookup and the count: a reload swapped it; look again.
        }
        throw InferenceError.Unavailable($"model '{name}' is being reloaded; retry");
    }

    /// <summary>The version a request addresses, without counting it in (metadata, readiness).</summary>
    public ServedModel Find(string name, string? version)
    {
        var snapshot = _models;
        if (!snapshot.TryGetValue(name, out var entry))
        {
            if (IsPlainName(name) && Directory.Exists(Path.Combine(_settings.Repository, name)))
                throw InferenceError.Unavailable($"model '{name}' is not loaded");
            throw InferenceError.NotFound($"unknown model '{name}'");
        }
        long? wanted = null;
        if (version is not null)
        {
            if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v <= 0)
                throw InferenceError.BadRequest($"model version '{version}' is not a positive integer");
            wanted = v;
        }
        if (entry.Versions.Count == 0)
        {
            var reason = entry.Reason.Length > 0 ? $": {entry.Reason}" : "";
            throw InferenceError.Unavailable($"model '{name}' is not ready{reason}");
        }
        if (wanted is null) return entry.Versions[entry.Versions.Keys.Max()];
        return entry.Versions.TryGetValue(wanted.Value, out var served)
            ? served
            : throw InferenceError.NotFound($"model '{name}' has no version {version}; loaded versions: {string.Join(", ", entry.Versions.Keys)}");
    }

    /// <summary>Every loaded version of every model, by name then version.</summary>
    public IReadOnlyList<ServedModel> Served() =>
        [.. _models.OrderBy(e => e.Key, StringComparer.Ordinal).SelectMany(e => e.Value.Versions.Values)];

    /// <summary>
    /// The statistics Triton's extension reports for a request: every served version of every model
    /// (no name), of one model (no version), or one version; an unknown model or version is refused
    /// as <see cref="Find"/> refuses it.
    /// </summary>
    public IReadOnlyList<Grpc.ModelStatistics> Statistics(string? name, string? version)
    {
        if (name is null) return [.. Served().Select(m => m.Statistics.ToProto(m.Name, m.VersionText))];
        var found = Find(name, version);
        return version is null
            ? [.. Served().Where(m => m.Name == name).Select(m => m.Statistics.ToProto(m.Name, m.VersionText))]
            : [found.Statistics.ToProto(found.Name, found.VersionText)];
    }

    /// <summary>
    /// The <c>model</c> label for a request naming <paramref name="name"/>: the name when it is a
    /// model of the repository (loaded or not), else empty — label values never come from the URL
    /// alone, so random names cannot grow /metrics.
    /// </summary>
    public string MetricLabel(string name) => _models.ContainsKey(name) ? name : "";

    /// <summary>The loaded versions of a model, lowest first.</summary>
    public IReadOnlyList<long> LoadedVersions(string name) =>
        _models.TryGetValue(name, out var entry) ? [.. entry.Versions.Keys] : [];

    public async ValueTask DisposeAsync()
    {
        foreach (var model in _models.Values.SelectMany(e => e.Versions.Values)) await model.RetireAsync().ConfigureAwait(false);
        _models = _models.Clear();
        _changes.Dispose();
    }

    /// <summary>A message for clients: the repository's location on the server cut from every path in it (<c>/srv/repo/mlp/3/model.onnx</c> → <c>mlp/3/model.onnx</c>).</summary>
    private string WithoutServerPaths(string message)
    {
        foreach (var root in new[] { Path.GetFullPath(_settings.Repository), _settings.Repository }.Distinct())
            message = message.Replace(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);
        return message;
    }

    private ModelConfig WithOverrides(ModelConfig config)
    {
        if (!_settings.DynamicBatching) config = config with { DynamicBatching = false };
        if (_settings.MaxQueueDelay is { } delay) config = config with { MaxQueueDelay = delay };
        return config;
    }

    private string ModelFolder(string name)
    {
        if (!IsPlainName(name)) throw InferenceError.BadRequest($"model name '{name}' is not a plain folder name");
        var folder = Path.Combine(_settings.Repository, name);
        return Directory.Exists(folder) ? folder : throw InferenceError.NotFound($"the repository has no model '{name}'");
    }

    private static bool IsPlainName(string name) =>
        name.Length is > 0 and <= 255 && name is not ("." or "..") && name.IndexOfAny(['/', '\\', '\0']) < 0 && !name.StartsWith('.');

    private static IEnumerable<(long Version, string Path)> Versions(string folder, string modelFilename)
    {
        foreach (var directory in Directory.GetDirectories(folder))
        {
            var name = Path.GetFileName(directory);
            if (!long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version <= 0) continue;
            var model = Path.Combine(directory, modelFilename);
            if (File.Exists(model)) yield return (version, model);
        }
    }

    private sealed record Entry(ImmutableSortedDictionary<long, ServedModel> Versions, string Reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "loaded model {Model} versions {Versions} on {Provider}")]
    private static partial void LogLoaded(ILogger logger, string model, string versions, string provider);

    [LoggerMessage(Level = LogLevel.Information, Message = "unloaded model {Model}")]
    private static partial void LogUnloaded(ILogger logger, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "model {Model} is unavailable: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, string model, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "model {Model}: {Message}")]
    private static partial void LogProvider(ILogger logger, string model, string message);
}
