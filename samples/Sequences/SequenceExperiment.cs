using System.Diagnostics;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Repository;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Sequences;

/// <summary>What the experiment measured and wrote.</summary>
/// <param name="Accuracy">Test accuracy per string length (the trained lengths and 24, which training never saw).</param>
/// <param name="PredictionsCompared">Test strings whose class ONNX Runtime predicted, over every length.</param>
/// <param name="PredictionMismatches">Of those, how many ONNX Runtime classed otherwise than TorchSharp.</param>
public sealed record SequenceResult(IReadOnlyDictionary<int, double> Accuracy, int PredictionsCompared, int PredictionMismatches, ParityReport Parity,
                                    string ModelPath, string BundlePath, string Repository, TimeSpan TrainingTime);

/// <summary>
/// Trains <see cref="BracketClassifier"/> (the LSTM) or <see cref="BracketTransformer"/> on bracket strings of lengths 8, 12, 16 and 20 (batches of
/// one length each), exports it once with a symbolic sequence length, and checks ONNX Runtime
/// against TorchSharp on the whole test set of every length — 24 included, a length the export never saw.
/// </summary>
public static class SequenceExperiment
{
    public const int Seed = 2024;

    public static readonly int[] TrainedLengths = [8, 12, 16, 20];

    public static readonly int[] TestLengths = [8, 12, 16, 20, 24];

    /// <summary>The exported model's input: int64 tokens [batch, seq], both dimensions dynamic.</summary>
    public static InputSpec Input { get; } = new("tokens", Onnx.Proto.TensorProto.Types.DataType.Int64, [Dim.Named("batch"), Dim.Named("seq")]);

    public static SequenceResult Run(string artifacts, TextWriter? log = null, int epochs = 6, string model = "lstm")
    {
        var random = new Random(Seed);
        TorchSharp.torch.random.manual_seed(Seed);
        var train = TrainedLengths.Select(length => BracketData.Generate(1000, length, random)).ToList();
        var test = TestLengths.ToDictionary(length => length, length => BracketData.Generate(250, length, random));

        // Adam's rate per network: the post-norm Transformer stalls at 0.01 (loss ~0.4), so 0.003.
        var (network, learningRate) = model switch
        {
            "lstm" => ((Core.Blocks.Block)new BracketClassifier(), 0.01),
            "transformer" => (new BracketTransformer(), 0.003),
            _ => throw new ArgumentException($"model must be lstm or transformer, got '{model}'", nameof(model)),
        };
        var clock = Stopwatch.StartNew();
        Train(network, train, epochs, learningRate, random, log);
        var trainingTime = clock.Elapsed;
        network.eval();

        var accuracy = new Dictionary<int, double>();
        using (no_grad())
        {
            foreach (var (length, (tokens, labels)) in test)
                accuracy[length] = network.forward(tokens).argmax(1).eq(labels).to(ScalarType.Float32).mean().item<float>();
        }

        Directory.CreateDirectory(artifacts);
        var options = new ExportOptions(Input) { OutputName = "logits" };
        var bundle = Path.Combine(artifacts, "bundle");
        // One data set per length: the bundle itself proves that the one model serves every length.
        var exported = ParityBundle.Write(bundle, network, options, [.. TestLengths.Select(length => (IReadOnlyList<Tensor>)[test[length].Tokens])]);
        var modelPath = Path.Combine(artifacts, "brackets.onnx");
        File.WriteAllBytes(modelPath, Google.Protobuf.MessageExtensions.ToByteArray(exported));
        var parity = BundleVerifier.Verify(bundle, ExecutionProviderPolicy.Cpu, Tolerance.Float32);

        var (compared, mismatches) = (0, 0);
        using (var session = OnnxModelSession.Open(modelPath))
        using (no_grad())
        {
            foreach (var (_, (tokens, _)) in test)
            {
                var ours = network.forward(tokens).argmax(1);
                var theirs = TensorConvert.ToTorch(session.Run([new("tokens", TensorConvert.ToHost(tokens))])[0].Tensor).argmax(1);
                compared += (int)tokens.shape[0];
                mismatches += (int)ours.ne(theirs).sum().item<long>();
            }
        }
        var repository = Path.Combine(artifacts, "repository");
        ModelRepository.Write(repository, "brackets", 1, exported);
        return new SequenceResult(accuracy, compared, mismatches, parity, modelPath, bundle, repository, trainingTime);
    }

    /// <summary>Adam on batches of 50 strings of one length, the lengths interleaved in a shuffled order each epoch.</summary>
    private static void Train(Core.Blocks.Block model, List<(Tensor Tokens, Tensor Labels)> train, int epochs, double learningRate, Random random, TextWriter? log)
    {
        model.train();
        using var optimizer = optim.Adam(model.parameters(), learningRate);
        var batches = train.SelectMany(set => Enumerable.Range(0, (int)set.Tokens.shape[0] / 50).Select(b => (set, b))).ToList();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            double total = 0;
            foreach (var (set, b) in batches.OrderBy(_ => random.Next()))
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.forward(set.Tokens.narrow(0, b * 50, 50)), set.Labels.narrow(0, b * 50, 50));
                loss.backward();
                optimizer.step();
                total += loss.item<float>();
            }
            log?.WriteLine($"epoch {epoch}/{epochs}  loss {total / batches.Count:F4}");
        }
    }
}
