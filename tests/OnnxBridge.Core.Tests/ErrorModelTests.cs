namespace OnnxBridge.Core.Tests;

/// <summary>One error model: every public exception OnnxBridge throws about its input derives from <see cref="OnnxBridgeException"/>.</summary>
[TestClass]
public sealed class ErrorModelTests
{
    [TestMethod]
    public void PublicExceptionTypes_AllDeriveFromOnnxBridgeException()
    {
        var assemblies = new[] { typeof(OnnxBridgeException).Assembly, typeof(Blocks.Block).Assembly, typeof(Runtime.Sessions.ExecutionProviderException).Assembly };

        var strays = assemblies.SelectMany(a => a.GetExportedTypes())
            .Where(t => typeof(Exception).IsAssignableFrom(t) && !typeof(OnnxBridgeException).IsAssignableFrom(t))
            .Select(t => t.FullName).ToList();

        Assert.AreEqual(0, strays.Count, string.Join(", ", strays));
        Assert.IsTrue(typeof(SerializationException).IsAssignableFrom(typeof(Serialization.PyTorchFileException)));
        Assert.IsTrue(assemblies.SelectMany(a => a.GetExportedTypes()).Count(t => typeof(OnnxBridgeException).IsAssignableFrom(t) && !t.IsAbstract) >= 9);
    }
}
