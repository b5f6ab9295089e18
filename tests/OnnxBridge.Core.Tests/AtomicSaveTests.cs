using System.Diagnostics;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Core.Tests;

/// <summary>A save killed at any moment leaves the previous file or the new one, never a torn one.</summary>
[TestClass]
[DoNotParallelize]
public sealed class AtomicSaveTests
{
    [TestMethod]
    [DataRow(".safetensors")]
    [DataRow(".pt")]
    [DataRow(".dat")]
    public void SaveKilledAtRandomPoints_AlwaysLeavesALoadableFile(string extension)
    {
        using var temp = new TempFolder();
        var path = temp.File("state" + extension);
        var helper = Path.Combine(AppContext.BaseDirectory, "SaveLoop.dll");
        var random = new Random(42);
        var seen = new HashSet<float>();

        for (int round = 0; round < 20; round++)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true };
            foreach (var a in new[] { helper, path, "8" }) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            // Wait until at least one save finished, then kill somewhere inside a later one.
            var first = process.StandardOutput.ReadLine();
            Assert.IsNotNull(first, "the save loop ended before its first save");
            Thread.Sleep(random.Next(0, 120));
            process.Kill(entireProcessTree: true);
            process.WaitForExit();

            var tensors = StateDicts.Read(path);
            var a0 = tensors[0].Tensor.AsSpan<float>();
            var b0 = tensors[1].Tensor.AsSpan<float>();
            var value = a0[0];
            Assert.IsTrue(value is 1f or 2f, $"round {round}: unexpected value {value}");
            Assert.IsTrue(a0.IndexOfAnyExcept(value) < 0 && b0.IndexOfAnyExcept(value) < 0, $"round {round}: the file mixes two saves");
            seen.Add(value);
        }

        Assert.AreEqual(2, seen.Count, "the kills should land after both kinds of save");

        // Temporary files of killed saves are cleared by the next save of the same file.
        StateDicts.Write(path, StateDicts.Read(path));
        CollectionAssert.AreEqual(new[] { Path.GetFileName(path) }, Directory.GetFiles(temp.Path).Select(Path.GetFileName).ToArray());
    }
}
