using System.Diagnostics;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Samples.Tests;

/// <summary>The walkthrough runs as a program, follows the chapter and leaves a verifiable parity bundle per network.</summary>
[TestClass]
[DoNotParallelize]
public sealed class WalkthroughTests
{
    [TestMethod]
    public void Walkthrough_RunsEndToEnd_AndLeavesVerifiableBundles()
    {
        using var temp = new TempFolder();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "DeepLearningComputation.dll"), temp.Path }) start.ArgumentList.Add(a);

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        Assert.AreEqual(0, process.ExitCode, output + stderr.Result);
        foreach (var section in new[] { "Layers and Modules", "Parameter Management", "Parameter Initialization", "Lazy Initialization", "Custom Layers", "File I/O", "GPUs" })
            StringAssert.Contains(output, "== " + section);
        StringAssert.Contains(output, "12 of 12 exported networks match TorchSharp under ONNX Runtime");
        var bundles = Directory.GetDirectories(Path.Combine(temp.Path, "chapter")).Where(d => File.Exists(Path.Combine(d, "model.onnx"))).ToList();
        Assert.AreEqual(12, bundles.Count);
        foreach (var bundle in bundles)
        {
            Assert.IsTrue(BundleVerifier.Verify(bundle, ExecutionProviderPolicy.Cpu, Tolerance.Float32).Passed, bundle);
            ImportRoundTrip.AssertRoundTrips(bundle);   // every chapter network: export → import → export, same outputs
        }
    }
}
