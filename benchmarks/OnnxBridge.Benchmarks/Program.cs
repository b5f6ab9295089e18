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

// How far the forwards are from this machine's GEMM rate, measured in the same run.
var reports = summaries.SelectMany(s => s.Reports).Where(r => r.ResultStatistics is not null).ToList();
var peak = reports.FirstOrDefault(r => r.BenchmarkCase.Descriptor.Type == typeof(GemmPeakBenchmarks));
if (peak is not null)
{
    var c = CultureInfo.InvariantCulture;
    var peakRate = GemmPeakBenchmarks.Flops / peak.ResultStatistics!.Median;   // flop per ns = GFLOP/s
    Console.WriteLine(string.Create(c, $"GEMM peak (TorchSharp mm 1024³, median): {peakRate:0.0} GFLOP/s"));
    foreach (var report in reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(ForwardBenchmarks)))
    {
        var batch = (int)report.BenchmarkCase.Parameters["Batch"];
        var rate = BenchNetworks.Mlp784Flops(batch) / report.ResultStatistics!.Median;
        Console.WriteLine(string.Create(c, $"{report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo,-20} batch {batch,5}: {rate,6:0.0} GFLOP/s, {100 * rate / peakRate,5:0.0} % of GEMM peak"));
    }
}
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
