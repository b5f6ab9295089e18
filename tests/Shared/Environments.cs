namespace OnnxBridge.Tests.Shared;

/// <summary>
/// Test prerequisites that come from outside the repository. Locally a missing one makes the test
/// inconclusive with the reason; in CI (CI=true), where .ci/run installs them, it is a failure.
/// </summary>
internal static class Environments
{
    public const string OnnxTestDataRoot = "/usr/share/libonnx-testdata/data";

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void Require(bool available, string what)
    {
        if (available) return;
        var message = $"{what} is not available here (CI installs it: see .ci/run)";
        if (InCi) Assert.Fail(message);
        Assert.Inconclusive(message);
    }
}
