using System.CommandLine;
using System.Globalization;
using OnnxBridge.Core.Architecture;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Training;
using OnnxBridge.Training.Data;
using OnnxBridge.Training.Optimization;
using OnnxBridge.Training.Progress;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge train</c>: a network from an architecture file (or a built-in preset) trained on a
/// CSV, then everything <see cref="TrainingJob"/> writes: checkpoints, metrics, curves, weights,
/// the architecture, the ONNX model and its parity bundle over the test split.
/// </summary>
internal static class TrainCommand
{
    internal sealed record Settings(
        string Data, string? Model, string? Preset, int TargetColumn, string Loss, int Epochs, int BatchSize, string Optimizer, double LearningRate,
        double Momentum, double WeightDecay, string Schedule, double? Clip, int? Patience, int Seed, double Validation, double Test,
        int CheckpointEvery, string? Out, bool Resume, ExecutionProviderPolicy Policy, long MaxParameters = ArchitectureJson.DefaultMaxParameters,
        string? Onnx = null, string? Weights = null);

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "CSV of numbers (optionally .gz); a non-numeric first line is a header", Required = true };
        var model = new Option<string?>("--model") { Description = "architecture file (JSON); a leading Normalization layer is fitted on the training split" };
        var onnx = new Option<string?>("--onnx") { Description = "instead of --model: fine-tune an ONNX model imported as blocks (its single float input takes the CSV's feature columns, unflattened to its shape)" };
        var weights = new Option<string?>("--weights") { Description = "with --onnx: start from this state dict (e.g. onnxbridge import's weights.safetensors) instead of the model's own initializers" };
        var preset = new Option<string?>("--preset") { Description = "instead of --model: mlp (Normalization, 128, ReLU, Dropout 0.2, classes) or cnn (for square images: two conv/pool stages)" };
        var target = new Option<int>("--target-column") { Description = "the target's column, from 0; negative counts from the end", DefaultValueFactory = _ => -1 };
        var loss = new Option<string>("--loss") { Description = "cross_entropy (class indices), mse or bce_with_logits", DefaultValueFactory = _ => "cross_entropy" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 32 };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, adam or adamw", DefaultValueFactory = _ => "adamw" };
        var lr = new Option<double>("--lr") { Description = "base learning rate", DefaultValueFactory = _ => 2e-3 };
        var momentum = new Option<double>("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => 0.9 };
        var decay = new Option<double>("--weight-decay") { DefaultValueFactory = _ => 1e-4 };
        var schedule = new Option<string>("--schedule") { Description = "constant, cosine, or step:EPOCHS:GAMMA", DefaultValueFactory = _ => "cosine" };
        var clip = new Option<double?>("--clip") { Description = "clip the gradient norm to this value" };
        var patience = new Option<int?>("--patience") { Description = "early stopping on val_loss after this many epochs without improvement (best weights restored)" };
        var seed = new Option<int>("--seed") { Description = "seed for the split, the initialization, batch order and dropout", DefaultValueFactory = _ => 0 };
        var validation = new Option<double>("--validation") { Description = "fraction held out for validation", DefaultValueFactory = _ => 0.1 };
        var test = new Option<double>("--test") { Description = "fraction held out for the final test and the parity check", DefaultValueFactory = _ => 0.2 };
        var every = new Option<int>("--checkpoint-every") { Description = "write checkpoints/epoch-NNNN.ckpt every N epochs (best.ckpt always)", DefaultValueFactory = _ => 5 };
        var output = new Option<string?>("--out") { Description = "output folder (default artifacts/train/<data file name>)" };
        var resume = new Option<bool>("--resume") { Description = "continue from the newest checkpoint in OUT/checkpoints" };
        var ep = CommonOptions.ExecutionProvider(ExecutionProviderPolicy.Cpu);
        var maxParameters = CommonOptions.MaxParameters();
        var command = new Command("train", "Train a network on a CSV in TorchSharp, then write checkpoints, metrics, curves, weights and the ONNX model checked under ONNX Runtime.\n\n" +
                                           "Example: onnxbridge train --data samples/data/digits.csv.gz --preset cnn --epochs 20 --optimizer sgd --lr 0.05 --schedule step:8:0.3\n" +
                                           "Example: onnxbridge train --data iris.csv --model net.json --patience 5 --out artifacts/train/iris")
        {
            data, model, preset, target, loss, epochs, batch, optimizer, lr, momentum, decay, schedule, clip, patience, seed, validation, test, every, output, resume, ep, maxParameters,
            onnx, weights,
        };
        command.SetAction(r => Run(new Settings(
                r.GetValue(data)!, r.GetValue(model), r.GetValue(preset), r.GetValue(target), r.GetValue(loss)!, r.GetValue(epochs), r.GetValue(batch),
                r.GetValue(optimizer)!, r.GetValue(lr), r.GetValue(momentum), r.GetValue(decay), r.GetValue(schedule)!, r.GetValue(clip), r.GetValue(patience),
                r.GetValue(seed), r.GetValue(validation), r.GetValue(test), r.GetValue(every), r.GetValue(output), r.GetValue(resume), r.GetValue(ep), r.GetValue(maxParameters),
                r.GetValue(onnx), r.GetValue(weights)),
            r.InvocationConfiguration.Output));
        return command;
    }

    /// <summary>Runs the job; errors propagate to <see cref="OnnxBridgeCli.Invoke"/>, which turns them into messages and exit codes.</summary>
    public static int Run(Settings s, TextWriter output)
    {
        if (new[] { s.Model, s.Preset, s.Onnx }.Count(x => x is not null) != 1)
            throw new UsageException("give exactly one of --model (an architecture file), --preset (mlp or cnn) and --onnx (an ONNX model to fine-tune)");
        if (s.Weights is not null && s.Onnx is null) throw new UsageException("--weights goes with --onnx (an architecture file or preset starts from its initialization)");
        var lossFunction = LossFunction.Parse(s.Loss);
        using var all = CsvDataset.Load(s.Data, s.TargetColumn, lossFunction == LossFunction.CrossEntropy ? TargetKind.ClassIndex : TargetKind.Real);
        var (train, validation, test) = all.Split(s.Validation, s.Test, s.Seed);
        var imported = s.Onnx is not null ? Imported(s, all.Features.shape[1], output) : default;
        if (imported.Row is { } row)
        {
            // The model's own input shape: each CSV row is unflattened to it, so its interface and keys stay as imported.
            (train, validation, test) = (Unflattened(train, row), Unflattened(validation, row), Unflattened(test, row));
        }
        using (train)
        using (validation)
        using (test)
        {
            if (test.Count == 0) throw new UsageException($"the test split is empty ({all.Count} rows, --test {s.Test}): the parity check needs test rows");
            var features = all.Features.shape[1];
            var input = InputSpec.Float32("input", Dim.Named("batch"), features);
            random.manual_seed(s.Seed);
            Block net;
            if (imported.Net is not null) (net, input) = (imported.Net, imported.Input);
            else net = s.Model is not null ? ArchitectureJson.FromJson(File.ReadAllText(s.Model), maxParameters: s.MaxParameters) : Preset(s.Preset!, features, Classes(all, lossFunction));
            net.Build(input);
            if (net is Sequential { Count: > 0 } sequential && sequential[0] is Normalization normalization) normalization.Adapt(train.Features);

            var folder = s.Out ?? Path.Combine("artifacts", "train", Path.GetFileName(s.Data).Split('.')[0]);
            var options = new TrainerOptions
            {
                Epochs = s.Epochs, BatchSize = s.BatchSize, Loss = lossFunction, Seed = s.Seed, GradientClipNorm = s.Clip, CheckpointEvery = s.CheckpointEvery,
                Optimizer = ParseOptimizer(s), Schedule = ParseSchedule(s.Schedule, s.Epochs),
                EarlyStopping = s.Patience is { } p ? new EarlyStopping(p) : null,
            };
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"data {s.Data}: {all.Count} rows, {features} features; split {train.Count}/{validation.Count}/{test.Count} (train/validation/test, seed {s.Seed})"));
            output.WriteLine($"{options.Optimizer}, schedule {options.Schedule}, loss {lossFunction}, {options.Epochs} epochs of batches of {options.BatchSize}");
            Directory.CreateDirectory(folder);
            // An imported graph has no architecture JSON: its ONNX model is its architecture, and the job writes it again.
            if (s.Onnx is null) AtomicFile.WriteAllBytes(Path.Combine(folder, "architecture.json"), System.Text.Encoding.UTF8.GetBytes(ArchitectureJson.ToJson(net)));

            var name = Path.GetFileName(Path.GetFullPath(folder));
            var result = TrainingJob.Run(name, net, input, train, validation, test, options, folder, new ConsoleProgress(output), s.Policy, resume: s.Resume);
            Report(result, output);
            return result.ParityPassed ? OnnxBridgeCli.Success : OnnxBridgeCli.CheckFailed;
        }
    }

    /// <summary>
    /// The imported model to fine-tune and its input: one float input whose per-row size is the CSV's
    /// feature count. Row is the shape each CSV row is unflattened to when the input is not [batch, features].
    /// </summary>
    private static (Block? Net, InputSpec Input, long[]? Row) Imported(Settings s, long features, TextWriter output)
    {
        var net = Core.Import.OnnxImporter.Import(s.Onnx!);
        if (s.Weights is not null) Core.Serialization.StateDicts.Load(net, s.Weights);
        if (net.Inputs is not [var spec] || net.OutputNames.Count != 1 || spec.ElementType != Onnx.Proto.TensorProto.Types.DataType.Float)
            throw new UsageException($"--onnx {s.Onnx}: training on a CSV takes a model with one float32 input and one output; it has inputs {string.Join(", ", net.Inputs)} and outputs {string.Join(", ", net.OutputNames)}");
        var row = spec.Shape.Skip(1).ToList();
        if (row.Any(d => !d.IsKnown) || row.Aggregate(1L, (p, d) => p * d.Size!.Value) != features)
            throw new UsageException($"--onnx {s.Onnx}: its input {spec} takes rows of {Dim.Format(row)}, the CSV has {features} feature columns");
        // Rows come in batches of any size, whatever batch size the model was exported with.
        var input = new InputSpec(spec.Name, spec.ElementType, [spec.Shape[0].IsKnown ? Dim.Named("batch") : spec.Shape[0], .. row]);
        if (row.Count == 1) return (net, input, null);
        output.WriteLine($"the model takes {spec}; each row of {features} features is unflattened to {Dim.Format(row)}");
        return (net, input, [.. row.Select(d => d.Size!.Value)]);
    }

    private static TensorDataset Unflattened(TensorDataset data, long[] row)
    {
        using (data) return new TensorDataset(data.Features.reshape([-1, .. row]), data.Targets.alias());
    }

    private static void Report(TrainingJobResult r, TextWriter output)
    {
        if (r.History.StopReason is { } reason) output.WriteLine(reason);
        var accuracy = r.TestAccuracy is { } a ? string.Create(CultureInfo.InvariantCulture, $"test accuracy {a:P2}, ") : "";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{accuracy}test loss {r.TestLoss:F4}"));
        output.WriteLine(r.Parity.Format());
        if (r.PredictionsCompared > 0) output.WriteLine($"predicted classes identical: {r.PredictionsCompared - r.PredictionMismatches}/{r.PredictionsCompared}");
        output.WriteLine($"wrote {r.ModelPath}, {r.BundlePath}/, {r.WeightsPath}, {r.CheckpointDirectory}/, {r.MetricsCsvPath}, {r.MetricsJsonPath}");
        output.WriteLine($"plots: {string.Join(", ", r.PlotPaths)}");
    }

    private static long Classes(TensorDataset data, LossFunction loss) =>
        loss == LossFunction.CrossEntropy ? data.Targets.max().item<long>() + 1 : data.Targets.shape.Length > 1 ? data.Targets.shape[1] : 1;

    private static Sequential Preset(string preset, long features, long outputs)
    {
        var builder = Net.Sequential().Add(new Normalization(features));
        switch (preset)
        {
            case "mlp":
                builder.Linear(128).ReLU().Dropout(0.2).Linear(outputs);
                break;
            case "cnn":
                var side = (long)Math.Round(Math.Sqrt(features));
                if (side * side != features || side < 4) throw new UsageException($"the cnn preset needs square images of at least 4x4 pixels, but rows have {features} features");
                builder.Unflatten(1, side, side)
                    .LazyConv2d(16, 3, padding: 1).BatchNorm2d(16).ReLU().MaxPool2d(2)
                    .LazyConv2d(32, 3, padding: 1).ReLU().MaxPool2d(2)
                    .Flatten().Dropout(0.25).Linear(outputs);
                break;
            default:
                throw new UsageException($"unknown preset '{preset}': use mlp or cnn");
        }
        return builder.Build();
    }

    private static OptimizerSpec ParseOptimizer(Settings s) => s.Optimizer switch
    {
        "sgd" => OptimizerSpec.Sgd(s.LearningRate, s.Momentum, s.WeightDecay),
        "adam" => OptimizerSpec.Adam(s.LearningRate, s.WeightDecay),
        "adamw" => OptimizerSpec.AdamW(s.LearningRate, s.WeightDecay),
        _ => throw new UsageException($"unknown optimizer '{s.Optimizer}': use sgd, adam or adamw"),
    };

    private static LearningRateSchedule ParseSchedule(string text, int epochs)
    {
        if (text == "constant") return LearningRateSchedule.Constant;
        if (text == "cosine") return LearningRateSchedule.Cosine(epochs);
        var parts = text.Split(':');
        if (parts is ["step", var every, var gamma] && int.TryParse(every, CultureInfo.InvariantCulture, out var stepSize)
            && double.TryParse(gamma, NumberStyles.Float, CultureInfo.InvariantCulture, out var factor))
            return LearningRateSchedule.Step(stepSize, factor);
        throw new UsageException($"unknown schedule '{text}': use constant, cosine or step:EPOCHS:GAMMA (e.g. step:8:0.3)");
    }
}
