// BenchmarkDotNet suite: dotnet run -c Release --project benchmarks/OnnxBridge.Benchmarks -- [--filter *Forward*] [--job short]
// Interleaved training-step comparison: ... -- paired lstm|transformer [batch] [pairs] (PairedComparison).
// In process (InProcessEmitToolchain): the benchmarks run in this program, which loads TorchSharp with
// the build's Debian 12 fix, instead of a generated project BenchmarkDotNet would build elsewhere.
using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using OnnxBridge.Benchmarks;
using OnnxBridge.Cli.Commands;

if (args is ["paired", ..]) return PairedComparison.Run(args);

var config = ManualConfig.CreateMinimumViable()
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15))
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.JoinSummary)
    .WithArtifactsPath(Path.Combine("artifacts", "benchmarks"));   // reports land beside the tools' other output, ignored by git
var summaries = BenchmarkSwitcher.FromAssembly(typeof(ForwardBenchmarks).Assembly).Run(args, config).ToList();

// How far the forwards are from this machine's limits, measured in the same run: the GEMM rate and,
// for batch 1, the rate at which the weights are read (against libtorch's sum over them).
var reports = summaries.SelectMany(s => s.Reports).Where(r => r.ResultStatistics is not null).ToList();
var gemm = Limit(nameof(MachineLimitsBenchmarks.Matmul));
var weightsRead = Limit(nameof(MachineLimitsBenchmarks.ReadMlpWeights));
if (gemm is not null)
{
    var c = CultureInfo.InvariantCulture;
    var peakRate = MachineLimitsBenchmarks.Flops / gemm.Value;   // flop per ns = GFLOP/s
    Console.WriteLine(string.Create(c, $"GEMM peak (TorchSharp mm 1024³, median): {peakRate:0.0} GFLOP/s"));
    if (weightsRead is not null)
        Console.WriteLine(string.Create(c, $"libtorch's sum over the MLP's {BenchNetworks.Mlp784WeightBytes / 1e6:0.00} MB of weights (median): {weightsRead.Value / 1000:0.0} µs, {BenchNetworks.Mlp784WeightBytes / weightsRead.Value:0.0} GB/s"));
    foreach (var report in reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(ForwardBenchmarks)))
    {
        var batch = (int)report.BenchmarkCase.Parameters["Batch"];
        var median = report.ResultStatistics!.Median;
        var rate = BenchNetworks.Mlp784Flops(batch) / median;
        var read = batch == 1 ? string.Create(c, $", weights read at {BenchNetworks.Mlp784WeightBytes / median:0.0} GB/s") : "";
        Console.WriteLine(string.Create(c, $"{report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo,-20} batch {batch,5}: {rate,6:0.0} GFLOP/s, {100 * rate / peakRate,5:0.0} % of GEMM peak{read}"));
    }
}

double? Limit(string method) =>
    reports.FirstOrDefault(r => r.BenchmarkCase.Descriptor.Type == typeof(MachineLimitsBenchmarks) && r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method)?.ResultStatistics!.Median;

return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
