using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using OnnxBridge.Core.Architecture;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Repository;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge export</c>: an architecture file (or a type from a plugin assembly) plus weights
/// in, a checked ONNX model out — as a file, into a Triton-style model repository, and optionally
/// with a parity bundle verified under ONNX Runtime.
/// </summary>
internal static class ExportCommand
{
    internal sealed record Settings(
        string? Model, string[] Assemblies, string? Type, string? Weights, long Seed, string[] Inputs, int Opset,
        string? Out, string? Bundle, bool Verify, string? Repository, string? Name, int Version, int MaxBatch, ExecutionProviderPolicy Policy,
        long? ExternalDataThreshold = null, bool Json = false, long MaxParameters = ArchitectureJson.DefaultMaxParameters, string[]? OutputNames = null,
        string? DType = null, string? Onnx = null);

    /// <summary>The metadata key under which an export with --bundle or --verify records the parity outcome.</summary>
    public const string ParityMetadataKey = "onnxbridge.parity";

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "architecture file (JSON, see docs/architecture.schema.json)" };
        var assembly = new Option<string[]>("--assembly") { Description = "plugin assemblies with user block types (repeatable)", DefaultValueFactory = _ => [], AllowMultipleArgumentsPerToken = true };
        var type = new Option<string?>("--type") { Description = "instead of --model: a Block type with a parameterless constructor, or a type with a static Create() returning a Block" };
        var weights = new Option<string?>("--weights") { Description = "state dict to load (.safetensors, .pt/.pth/.bin, .dat), or an exported .onnx model (which also carries non-persistent buffers); without it parameters are initialized with --seed" };
        var seed = new Option<long>("--seed") { Description = "seed for initialization and for the parity inputs", DefaultValueFactory = _ => 0 };
        var input = new Option<string[]>("--input") { Description = "graph input as name:dtype[dims], named dims stay symbolic, e.g. input:float32[batch,20]; repeat it for a block with several inputs", DefaultValueFactory = _ => [] };
        var opset = new Option<int>("--opset") { Description = $"ONNX opset ({ExportOptions.MinOpset}..{ExportOptions.MaxOpset}); above 17 needs a newer checker than onnx 1.12", DefaultValueFactory = _ => ExportOptions.DefaultOpset };
        var output = new Option<string?>("--out") { Description = "where to write model.onnx" };
        var bundle = new Option<string?>("--bundle") { Description = "also write a parity bundle (ONNX test-case layout) with TorchSharp outputs and the parity report" };
        var verify = new Option<bool>("--verify") { Description = "run ONNX Runtime parity and fail (exit 1) on a tolerance miss" };
        var repository = new Option<string?>("--repository") { Description = "model repository folder: writes REPO/NAME/VERSION/model.onnx and REPO/NAME/config.pbtxt" };
        var name = new Option<string?>("--name") { Description = "model name in the repository" };
        var version = new Option<int>("--version") { Description = "model version in the repository", DefaultValueFactory = _ => 1 };
        var maxBatch = new Option<int>("--max-batch") { Description = "Triton max_batch_size when the model has a symbolic batch dimension", DefaultValueFactory = _ => 64 };
        var ep = CommonOptions.ExecutionProvider(ExecutionProviderPolicy.Cpu);
        var external = new Option<long?>("--external-data-threshold") { Description = "initializers of at least this many bytes go to a data file beside --out (streamed; automatic past 2 GB)" };
        var json = new Option<bool>("--json") { Description = "print one JSON document describing what was written (and the parity result) instead of text" };
        var maxParameters = CommonOptions.MaxParameters();
        var outputNames = new Option<string[]>("--output-name") { Description = "graph output name, repeated in order for a block with several outputs (default: output, or output_0, output_1, ...)", DefaultValueFactory = _ => [] };
        var onnx = new Option<string?>("--onnx") { Description = "instead of --model: an ONNX model imported as blocks (onnxbridge import); --input defaults to its inputs and --output-name to its outputs" };
        var dtype = new Option<string?>("--dtype") { Description = "convert the network's floating-point parameters and buffers to this type before loading weights, as PyTorch's net.half() / net.to(torch.bfloat16): float16, bfloat16, float32 or float64 (give the inputs the same type)" };
        var command = new Command("export", "Export a network to ONNX from an architecture file and weights, with an optional parity check and a Triton-style repository.\n\n" +
                                            "Example: onnxbridge export --model samples/architectures/mlp.json --weights mlp.safetensors --input input:float32[batch,20] --out mlp.onnx --bundle mlp-bundle --verify\n" +
                                            "Example: onnxbridge export --model net.json --assembly MyBlocks.dll --input x:float32[batch,8] --repository models --name net")
        {
            model, assembly, type, weights, seed, input, opset, output, bundle, verify, repository, name, version, maxBatch, ep, external, json, maxParameters, outputNames, dtype, onnx,
        };
        command.SetAction(result => Run(new Settings(
                result.GetValue(model), result.GetValue(assembly)!, result.GetValue(type), result.GetValue(weights), result.GetValue(seed),
                result.GetValue(input)!, result.GetValue(opset), result.GetValue(output), result.GetValue(bundle), result.GetValue(verify),
                result.GetValue(repository), result.GetValue(name), result.GetValue(version), result.GetValue(maxBatch), result.GetValue(ep),
                result.GetValue(external), result.GetValue(json), result.GetValue(maxParameters), result.GetValue(outputNames), result.GetValue(dtype), result.GetValue(onnx)),
            result.InvocationConfiguration.Output));
        return command;
    }

    /// <summary>
    /// Traces the network once; that one model is what <c>--out</c>, the bundle and the repository
    /// get, each written once it carries the parity record (when a check ran). Errors propagate to
    /// <see cref="OnnxBridgeCli.Invoke"/>, which turns them into messages and exit codes.
    /// </summary>
    public static int Run(Settings s, TextWriter output)
    {
        if (new[] { s.Model, s.Type, s.Onnx }.Count(x => x is not null) != 1)
            throw new UsageException("give exactly one of --model (an architecture file), --type (a type in a plugin assembly) and --onnx (an ONNX model to import)");
        var imported = s.Onnx is not null ? Core.Import.OnnxImporter.Import(s.Onnx) : null;
        if (imported is not null)
        {
            // An imported graph keeps its own names and dimensions unless told otherwise.
            if (s.Inputs.Length == 0) s = s with { Inputs = [.. imported.Inputs.Select(i => i.ToString())] };
            if (s.OutputNames is null or { Length: 0 }) s = s with { OutputNames = [.. imported.OutputNames] };
        }
        if (s.Inputs.Length == 0) throw new UsageException("give --input name:dtype[dims] (once per graph input, in the order the forward takes them)");
        if (s.Out is null && s.Repository is null && s.Bundle is null) throw new UsageException("say where the model goes: --out, --repository or --bundle");
        if (s.Repository is not null && s.Name is null) throw new UsageException("--repository needs --name");
        if (s.ExternalDataThreshold is not null && s.Out is null) throw new UsageException("--external-data-threshold writes a data file beside --out: give --out");

        var specs = s.Inputs.Select(InputSpec.Parse).ToArray();
        var assemblies = s.Assemblies.Select(LoadAssembly).ToList();
        random.manual_seed(s.Seed); // before construction: blocks with known shapes initialize in their constructors
        var block = imported ?? (s.Model is not null
            ? ArchitectureJson.FromJson(File.ReadAllText(s.Model), assemblies, s.MaxParameters)
            : CreateFromType(s.Type!, assemblies));
        if (s.DType is not null)
        {
            var type = DTypes.Parse(s.DType) ?? throw new UsageException($"--dtype {s.DType}: unknown dtype (a network converts to float16, bfloat16, float32 or float64)");
            block.to(DTypes.ToTorch(type)); // refuses an integer type
        }
        // An ONNX model as weights also restores the constants kept out of state dicts (non-persistent buffers).
        // Without weights, deferred layers materialize during the export's own trace, as in Build.
        if (s.Weights is not null && s.Weights.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) StateDicts.LoadFromOnnx(block, s.Weights);
        else if (s.Weights is not null) StateDicts.Load(block, s.Weights);

        var options = new ExportOptions(specs[0], specs[1..])
        {
            Opset = s.Opset, ExternalDataThreshold = s.ExternalDataThreshold,
            OutputNames = s.OutputNames is { Length: > 1 } names ? names : null,
            OutputName = s.OutputNames is [var single] ? single : "output",
        };
        // The one trace. With --out the weights may stream to a data file beside it (Save decides);
        // the bundle and the repository then read them back inline rather than trace again.
        var model = s.Out is not null ? OnnxExporter.Save(block, options, s.Out) : OnnxExporter.Export(block, options);
        var hasExternalData = model.Graph.Initializer.Any(i => i.DataLocation == Onnx.Proto.TensorProto.Types.DataLocation.External);
        var inline = hasExternalData && (s.Bundle is not null || s.Verify || s.Repository is not null)
            ? OnnxFiles.WithInlineData(model, Path.GetDirectoryName(Path.GetFullPath(s.Out!))!)
            : model;
        var written = new ExportResult(block.GetName(), model.IrVersion, s.Opset, model.Graph.Node.Count, model.Graph.Initializer.Count,
            model.MetadataProps.Single(p => p.Key == OnnxExporter.WeightsHashKey).Value);
        var text = s.Json ? TextWriter.Null : output;
        text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported {written.Block}: IR {written.IrVersion}, opset {written.Opset}, {written.Nodes} nodes, {written.Initializers} initializers, weights sha256 {written.WeightsSha256[..16]}…"));

        var exitCode = OnnxBridgeCli.Success;
        if (s.Bundle is not null || s.Verify)
        {
            var (report, record) = CheckParity(block, inline, options, s, text);
            written = written with { Bundle = s.Bundle, Parity = new ParityResult(report.Passed, report.Provider, report.MaxAbsoluteError, report.MaxRelativeError) };
            if (!report.Passed && s.Verify) exitCode = OnnxBridgeCli.CheckFailed;
            // The outcome goes into every model written, where `inspect` shows it.
            model.MetadataProps.Add(new Onnx.Proto.StringStringEntryProto { Key = ParityMetadataKey, Value = record });
            if (!ReferenceEquals(inline, model)) inline.MetadataProps.Add(new Onnx.Proto.StringStringEntryProto { Key = ParityMetadataKey, Value = record });
            if (s.Out is not null) AtomicFile.WriteAllBytes(s.Out, Google.Protobuf.MessageExtensions.ToByteArray(model));
        }
        if (s.Out is not null)
        {
            written = written with { Out = s.Out };
            text.WriteLine($"wrote {s.Out}");
        }
        if (s.Repository is not null)
        {
            written = written with { RepositoryModel = ModelRepository.Write(s.Repository, s.Name!, s.Version, inline, s.MaxBatch) };
            text.WriteLine($"wrote {written.RepositoryModel} and its config.pbtxt");
        }
        if (s.Json) output.WriteLine(JsonSerializer.Serialize(written, JsonOptions));
        return exitCode;
    }

    /// <summary>
    /// Writes the parity bundle for the exported model (to --bundle, or a temporary folder for --verify
    /// alone), runs it under ONNX Runtime, and stores the record in the bundle's model.onnx too.
    /// </summary>
    private static (ParityReport Report, string Record) CheckParity(Block block, Onnx.Proto.ModelProto exported, ExportOptions options, Settings s, TextWriter output)
    {
        var folder = s.Bundle ?? Path.Combine(Path.GetTempPath(), $"onnxbridge-export-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            // Two data sets: symbolic dimensions at 1 and at 7, so the check also exercises them.
            var inputs = new[] { 1L, 7L }.Select(size => (IReadOnlyList<Tensor>)[.. options.Inputs.Select(spec =>
                randn([.. spec.Shape.Select(d => d.Size ?? size)], DTypes.ToTorch(spec.ElementType)))]).ToArray();
            ParityBundle.Write(folder, exported, block, options, inputs);
            var report = BundleVerifier.Verify(folder, s.Policy, log: output.WriteLine);
            output.WriteLine(report.Format());
            var record = string.Create(CultureInfo.InvariantCulture,
                $"{(report.Passed ? "PASS" : "FAIL")}: max |Δ| {report.MaxAbsoluteError:0.00e+0}, max rel {report.MaxRelativeError:0.00e+0} on {report.Provider}, {report.Tolerance}, batch 1 and 7");
            if (s.Bundle is not null)
            {
                var withRecord = exported.Clone();
                withRecord.MetadataProps.Add(new Onnx.Proto.StringStringEntryProto { Key = ParityMetadataKey, Value = record });
                AtomicFile.WriteAllBytes(Path.Combine(folder, OnnxTestCase.ModelFileName), Google.Protobuf.MessageExtensions.ToByteArray(withRecord));
                AtomicFile.WriteAllBytes(Path.Combine(folder, "parity.txt"), System.Text.Encoding.UTF8.GetBytes(report.Format() + Environment.NewLine));
                output.WriteLine($"wrote parity bundle {folder} (re-check anywhere: onnxbridge verify {folder})");
            }
            return (report, record);
        }
        finally
        {
            if (s.Bundle is null && Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>What an export wrote, for <c>--json</c>.</summary>
    private sealed record ExportResult(string Block, long IrVersion, int Opset, int Nodes, int Initializers, string WeightsSha256)
    {
        public string? Out { get; init; }

        public string? RepositoryModel { get; init; }

        public string? Bundle { get; init; }

        public ParityResult? Parity { get; init; }
    }

    private sealed record ParityResult(bool Passed, string Provider, double MaxAbsoluteError, double MaxRelativeError);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static Assembly LoadAssembly(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"plugin assembly '{path}' does not exist");
        return Assembly.LoadFrom(Path.GetFullPath(path));
    }

    private static Block CreateFromType(string name, IReadOnlyList<Assembly> assemblies)
    {
        var type = assemblies.Select(a => a.GetType(name, throwOnError: false)).FirstOrDefault(t => t is not null)
            ?? throw new UsageException($"type '{name}' was not found in {(assemblies.Count == 0 ? "any assembly (give --assembly)" : string.Join(", ", assemblies.Select(a => a.GetName().Name)))}");
        if (typeof(Block).IsAssignableFrom(type) && type.GetConstructor(Type.EmptyTypes) is { } constructor)
            return (Block)constructor.Invoke(null);
        if (type.GetMethod("Create", BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes) is { } factory && typeof(Block).IsAssignableFrom(factory.ReturnType))
            return (Block)factory.Invoke(null, null)!;
        throw new UsageException($"type '{name}' is neither a Block with a parameterless constructor nor a type with a public static Create() returning a Block");
    }
}
