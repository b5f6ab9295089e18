namespace OnnxBridge.Tests.Shared;

/// <summary>Files of the repository the tests run from (samples, scripts, the README), found above the test's output folder.</summary>
internal static class RepoFiles
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        var folder = AppContext.BaseDirectory;
        while (!File.Exists(System.IO.Path.Combine(folder, "OnnxBridge.sln")))
            folder = System.IO.Path.GetDirectoryName(folder) ?? throw new InvalidOperationException($"no OnnxBridge.sln above {AppContext.BaseDirectory}");
        return folder;
    });

    /// <summary>The repository root, where OnnxBridge.sln is.</summary>
    public static string Root => s_root.Value;

    /// <summary>A path under the repository root.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);
}
