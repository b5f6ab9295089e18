// CheckpointLoop PATH MEGABYTES: rewrites PATH as a training checkpoint forever, alternating two
// contents (every weight 1 at epoch 1, then every weight 2 at epoch 2), and prints "saved N" after
// each write. Killed by tests.
using System.Globalization;
using OnnxBridge.Core.Layers;
using OnnxBridge.Training.Checkpoints;
using OnnxBridge.Training.History;
using static TorchSharp.torch;

var path = args[0];
var inFeatures = int.Parse(args[1], CultureInfo.InvariantCulture) * 1024 * 1024 / 4 / 1024;
var model = new Linear(inFeatures, 1024, bias: false);
using var optimizer = optim.SGD(model.parameters(), 0.1, momentum: 0.9);
var epochs = new[] { 1, 2 }.Select(e => new TrainingHistory(Enumerable.Range(1, e).Select(i => new EpochMetrics(i, 0.1, 1, null, null, null, 0, 0, 0)))).ToArray();

for (long n = 0; ; n++)
{
    using (no_grad()) model.Weight!.fill_(1 + n % 2);
    Checkpoint.Save(path, model, optimizer, (int)(1 + n % 2), epochs[n % 2], "checkpoint loop");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"saved {n}"));
}
