using OnnxBridge.Training.Optimization;
using OnnxBridge.Training.Progress;

namespace OnnxBridge.Training.Tests;

[TestClass]
[DoNotParallelize]
public sealed class ProgressTests
{
    [TestMethod]
    public void ConsoleProgress_NotATerminal_WritesPlainLinesWithoutControlCharacters()
    {
        var output = new StringWriter();

        Run(new ConsoleProgress(output));

        var text = output.ToString();
        Assert.IsFalse(text.Any(c => char.IsControl(c) && c != '\n'), $"control characters in: {text}");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(3, lines.Length, text);
        StringAssert.Matches(lines[0], new System.Text.RegularExpressions.Regex(@"^epoch 1/3  loss \d\.\d{4}  acc \d+\.\d\d %  val_loss \d\.\d{4}  val_acc \d+\.\d\d %  lr 0\.05  \d+\.\ds  ETA \d+:\d\d$"));
        Assert.IsFalse(lines[2].Contains("ETA", StringComparison.Ordinal), "no ETA after the last epoch");
    }

    [TestMethod]
    public void ConsoleProgress_Terminal_RedrawsInPlaceAndEndsEpochsOnCleanLines()
    {
        var output = new StringWriter();

        Run(new ConsoleProgress(output, interactive: true), batchSize: 1);

        var text = output.ToString();
        StringAssert.Contains(text, "\r", "a terminal gets an in-place bar");
        StringAssert.Matches(text, new System.Text.RegularExpressions.Regex(@"epoch 1 \[#*\.*\] \d+/\d+  loss \d\.\d{4}  acc .* ETA \d+:\d\d"));
        foreach (var line in text.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal) && l.Contains('/', StringComparison.Ordinal)))
            Assert.IsFalse(line.Contains('['), $"epoch summary lines are clean: {line}");
    }

    private static void Run(ITrainingObserver observer, int batchSize = 16)
    {
        using var train = TrainingFixtures.Data(120, 1);
        using var validation = TrainingFixtures.Data(30, 2);
        var net = TrainingFixtures.Network(3);
        using var trainer = new Trainer(net, new TrainerOptions { Epochs = 3, BatchSize = batchSize, Optimizer = OptimizerSpec.Sgd(0.05) }, observer);
        trainer.Fit(train, validation);
    }
}
