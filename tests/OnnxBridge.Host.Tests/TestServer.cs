using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Host.Tests;

/// <summary>A real Kestrel server on a free loopback port, serving a <see cref="TestRepository"/>; disposing stops it.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestServer(WebApplication app, TempFolder folder, byte[] version1, byte[] version2, Uri address, LogCapture logs)
    {
        _app = app;
        Folder = folder;
        Version1 = version1;
        Version2 = version2;
        Client = new HttpClient { BaseAddress = address };
        Logs = logs;
    }

    public TempFolder Folder { get; }

    public string Repository => Folder.File("repository");

    public byte[] Version1 { get; }

    public byte[] Version2 { get; }

    public HttpClient Client { get; }

    public LogCapture Logs { get; }

    /// <summary>The gRPC API's address (HTTP/2 without TLS), when the settings serve it.</summary>
    public Uri? GrpcAddress { get; private init; }

    /// <param name="addModels">Writes more models into the repository before the server starts.</param>
    public static async Task<TestServer> StartAsync(Func<HostSettings, HostSettings>? adjust = null, Action<string>? addModels = null)
    {
        var folder = new TempFolder();
        var repository = folder.File("repository");
        var (v1, v2) = TestRepository.Create(repository);
        addModels?.Invoke(repository);
        var settings = new HostSettings { Repository = repository, Port = 0, GrpcPort = 0 };
        if (adjust is not null) settings = adjust(settings);
        var logs = new LogCapture();
        var app = await InferenceHost.BuildAsync(settings, logging => logging.AddProvider(logs));
        await app.StartAsync();
        // Kestrel lists its addresses in the order they were bound: REST first, then gRPC.
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        return new TestServer(app, folder, v1, v2, new Uri(addresses[0]), logs) { GrpcAddress = addresses.Count > 1 ? new Uri(addresses[1]) : null };
    }

    public Task StopAsync() => _app.StopAsync();

    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public Task<(int Status, JsonNode? Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<(int Status, JsonNode? Body)> PostAsync(string path, string json = "{}") => SendAsync(HttpMethod.Post, path, json);

    /// <summary>Posts JSON followed by binary data, with the Inference-Header-Content-Length header.</summary>
    public async Task<(int Status, byte[] Body, long? JsonLength)> PostBinaryAsync(string path, string json, byte[] binary)
    {
        var header = Encoding.UTF8.GetBytes(json);
        using var content = new ByteArrayContent([.. header, .. binary]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await Client.SendAsync(request);
        var length = response.Headers.TryGetValues("Inference-Header-Content-Length", out var values) ? long.Parse(values.First(), System.Globalization.CultureInfo.InvariantCulture) : (long?)null;
        return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(), length);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Folder.Dispose();
    }
}

/// <summary>Collects log lines, for the structured-log assertions.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines) return [.. _lines];
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = state is IReadOnlyList<KeyValuePair<string, object?>> list ? string.Join(";", list.Select(kv => $"{kv.Key}={kv.Value}")) : "";
            lock (owner._lines) owner._lines.Add($"{category}|{formatter(state, exception)}|{fields}");
        }
    }
}
