using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using Google.Protobuf;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Training;
using OnnxBridge.Training.Data;
using OnnxBridge.Training.Optimization;
using OnnxBridge.Training.Progress;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// The main job, end to end on built-in defaults: build d2l's MLP (20→256→10) with the builder, train
/// it briefly on synthetic data, save and reload the state dict, export ONNX, write a parity bundle,
/// reload it under ONNX Runtime and print the parity report.
/// </summary>
internal static class QuickstartCommand
{
    internal sealed record Settings(string Artifacts, ExecutionProviderPolicy Policy, int DeviceId, int Epochs, long Seed);

    private const int Features = 20;
    private const int Classes = 10;
    private const int Samples = 2048;
    private const int TestSamples = 256;
    private const int BatchSize = 64;
    private static readonly int[] ParityBatchSizes = [1, 7, 64];

    public static Command Create()
    {
        var artifacts = new Option<string>("--artifacts") { Description = "folder to write models and bundles under", DefaultValueFactory = _ => "artifacts" };
        var ep = CommonOptions.ExecutionProvider(ExecutionProviderPolicy.Auto);
        var device = CommonOptions.DeviceId();
        var epochs = new Option<int>("--epochs") { Description = "training epochs", DefaultValueFactory = _ => 8 };
        var seed = new Option<long>("--seed") { Description = "seed for data, initialization and shuffling", DefaultValueFactory = _ => 0 };
        var command = new Command("quickstart", "Build d2l's MLP, train it briefly, save/reload its state dict, export ONNX and check parity under ONNX Runtime.\n\n" +
                                                "Example: onnxbridge quickstart --ep cpu --artifacts artifacts")
        {
            artifacts, ep, device, epochs, seed,
        };
        command.SetAction(result => Run(
            new Settings(result.GetValue(artifacts)!, result.GetValue(ep), result.GetValue(device), result.GetValue(epochs), result.GetValue(seed)),
            result.InvocationConfiguration.Output));
        return command;
    }

    /// <summary>Runs the job; errors propagate to <see cref="OnnxBridgeCli.Invoke"/>, which turns them into messages and exit codes.</summary>
    public static int Run(Settings settings, TextWriter output)
    {
        if (settings.Epochs < 1) throw new UsageException($"--epochs must be at least 1, got {settings.Epochs}");
        var c = CultureInfo.InvariantCulture;
        var models = Path.Combine(settings.Artifacts, "models");
        var bundle = Path.Combine(settings.Artifacts, "bundles", "mlp");
        random.manual_seed(settings.Seed);
        output.WriteLine("OnnxBridge quickstart: d2l's MLP from the builder to ONNX Runtime parity");

        // 1. Build: input sizes are deferred, as with PyTorch's LazyLinear.
        var net = NewNetwork();
        output.WriteLine(string.Create(c, $"[1/6] build   Net.Sequential().Linear(256).ReLU().Linear(10).Build()  (deferred: {string.Join(", ", net.UnbuiltBlockPaths().Select(p => $"'{p}'"))} wait for their input size)"));

        // 2. Train.
        var (trainX, trainY, testX, testY) = SyntheticData(settings.Seed);
        output.WriteLine(string.Create(c, $"[2/6] train   synthetic {Classes}-class data ({Features} features): {Samples - TestSamples} training / {TestSamples} held-out samples, cross-entropy, Adam lr 0.01, batch {BatchSize}"));
        var stopwatch = Stopwatch.StartNew();
        net.Build(Input); // materializes the deferred layers, so the optimizer sees every parameter
        using var heldOut = new TensorDataset(testX, testY); // owns testX and testY until the end of Run
        using (var train = new TensorDataset(trainX, trainY))
        using (var trainer = new Trainer(net, new TrainerOptions { Epochs = settings.Epochs, BatchSize = BatchSize, Optimizer = OptimizerSpec.Adam(0.01), Seed = (int)settings.Seed }, new ConsoleProgress(output)))
        {
            trainer.Fit(train, heldOut);
        }
        output.WriteLine(string.Create(c, $"      trained {settings.Epochs} epochs in {stopwatch.Elapsed.TotalSeconds:0.0} s; test accuracy {Accuracy(net, testX, testY):P1} ({TestSamples} held-out samples)"));

        // 3. Save and reload into a fresh, deferred network.
        var weightsPath = Path.Combine(models, "mlp.safetensors");
        StateDicts.Save(net, weightsPath);
        var reloaded = NewNetwork();
        StateDicts.Load(reloaded, weightsPath);
        var reloadDiff = MaxAbsDifference(net, reloaded, testX);
        output.WriteLine(string.Create(c, $"[3/6] save    {weightsPath} ({new FileInfo(weightsPath).Length / 1024.0:0.0} KiB); reloaded into a fresh network: max |Δ| = {reloadDiff:0.###e+0} ({(reloadDiff == 0 ? "bit-identical" : "DIFFERENT")})"));
        if (reloadDiff != 0) return OnnxBridgeCli.CheckFailed;

        // 4. Export, once: the same model goes to models/ and into the bundle.
        var options = new ExportOptions(Input);
        var modelPath = Path.Combine(models, "mlp.onnx");
        var model = OnnxExporter.Export(reloaded, options);
        AtomicFile.WriteAllBytes(modelPath, model.ToByteArray());
        output.WriteLine(string.Create(c, $"[4/6] export  {modelPath}: IR {model.IrVersion}, opset {model.OpsetImport[0].Version}, {options.Input} -> output, " +
                            $"nodes {string.Join(" ", model.Graph.Node.Select(n => n.OpType))}, initializers {string.Join(" ", model.Graph.Initializer.Select(i => i.Name))}"));

        // 5. Parity bundle: TorchSharp outputs for several batch sizes, one model.
        using (var scope = NewDisposeScope())
        {
            var inputs = ParityBatchSizes.Select(b => (IReadOnlyList<Tensor>)[testX[TensorIndex.Slice(0, b)]]).ToList();
            ParityBundle.Write(bundle, model, reloaded, options, inputs);
        }
        output.WriteLine(string.Create(c, $"[5/6] bundle  {bundle}: model.onnx + test_data_set_0..{ParityBatchSizes.Length - 1} (batch {string.Join(", ", ParityBatchSizes)}), outputs from TorchSharp"));

        // 6. Reload under ONNX Runtime and compare.
        var report = BundleVerifier.Verify(bundle, settings.Policy, deviceId: settings.DeviceId, log: output.WriteLine);
        output.WriteLine("[6/6] verify  ONNX Runtime vs TorchSharp");
        output.WriteLine(report.Format());
        output.WriteLine(string.Create(c, $"Re-check anywhere (no TorchSharp needed): onnxbridge verify {bundle} --ep auto"));
        return report.Passed ? OnnxBridgeCli.Success : OnnxBridgeCli.CheckFailed;
    }

    private static InputSpec Input { get; } = InputSpec.Float32("input", Dim.Named("batch"), Features);

    private static Sequential NewNetwork() => Net.Sequential().Linear(256).ReLU().Linear(Classes).Build();

    /// <summary>A 10-class problem: labels are the argmax of a fixed random linear map of Gaussian features.</summary>
    private static (Tensor TrainX, Tensor TrainY, Tensor TestX, Tensor TestY) SyntheticData(long seed)
    {
        var generator = new TorchSharp.torch.Generator((ulong)seed + 1);
        var x = randn([Samples, Features], generator: generator);
        var teacher = randn([Features, Classes], generator: generator);
        var y = x.matmul(teacher).argmax(1);
        var train = TensorIndex.Slice(0, Samples - TestSamples);
        var test = TensorIndex.Slice(Samples - TestSamples, Samples);
        return (x[train], y[train], x[test], y[test]);
    }

    private static double Accuracy(Block net, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        net.eval();
        return net.forward(x).argmax(1).eq(y).to(ScalarType.Float32).mean().item<float>();
    }

    private static double MaxAbsDifference(Block a, Block b, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        a.eval();
        b.eval();
        return (a.forward(x) - b.forward(x)).abs().max().item<float>();
    }
}
