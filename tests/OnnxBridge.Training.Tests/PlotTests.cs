using OnnxBridge.Training.History;
using OnnxBridge.Training.Plots;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Training.Tests;

[TestClass]
public sealed class PlotTests
{
    [TestMethod]
    public void Save_History_WritesLabelledPngAndSvgCurves()
    {
        using var temp = new TempFolder();
        var history = new TrainingHistory(Enumerable.Range(1, 5).Select(e => new EpochMetrics(e, 0.1, 1.0 / e, 0.5 + e / 20.0, 1.2 / e, 0.45 + e / 20.0, 0.1, 10, 100)));

        var paths = TrainingPlots.Save(history, temp.Path, "unit");

        CollectionAssert.AreEqual(new[] { "loss.png", "loss.svg", "accuracy.png", "accuracy.svg" }, paths.Select(Path.GetFileName).ToArray());
        var png = File.ReadAllBytes(paths[0]);
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.AreEqual(TrainingPlots.Width, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), "IHDR width");
        Assert.AreEqual(TrainingPlots.Height, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)), "IHDR height");
        using (var bitmap = SkiaSharp.SKBitmap.Decode(paths[0]))
        {
            // The x-axis label "Epoch" is drawn centred under the plot: its strip must hold dark text pixels.
            var dark = 0;
            for (int y = TrainingPlots.Height - 30; y < TrainingPlots.Height; y++)
            {
                for (int x = TrainingPlots.Width / 2 - 60; x < TrainingPlots.Width / 2 + 60; x++)
                    dark += bitmap.GetPixel(x, y).Red < 100 ? 1 : 0;
            }
            Assert.IsTrue(dark > 50, $"no text under the x axis ({dark} dark pixels): the bundled font was not used");
        }
        var svg = File.ReadAllText(paths[3]);
        foreach (var label in new[] { "Epoch", "Accuracy (%)", "train", "validation", "unit: accuracy" })
            StringAssert.Contains(svg, label);
    }

    [TestMethod]
    public void Save_RegressionHistory_WritesOnlyLossCurves()
    {
        using var temp = new TempFolder();
        var history = new TrainingHistory([new EpochMetrics(1, 0.1, 2, null, null, null, 0.1, 10, 100), new EpochMetrics(2, 0.1, 1, null, null, null, 0.1, 10, 100)]);

        var paths = TrainingPlots.Save(history, temp.Path);

        CollectionAssert.AreEqual(new[] { "loss.png", "loss.svg" }, paths.Select(Path.GetFileName).ToArray());
    }
}
