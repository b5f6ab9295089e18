using Microsoft.Win32.SafeHandles;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Serialization;

/// <summary>
/// Reads tensors' bytes from a file straight into tensor memory, in slices spread over the cores.
/// The destinations are new tensors whose pages the kernel maps as the bytes arrive; those page
/// faults, not the copy, are most of a load's time, and they run in parallel where the copy
/// from the page cache alone would not need to (docs/benchmarks.md, "State-dict save and load").
/// </summary>
internal static class TensorFileReader
{
    /// <summary>One slice is at most this many bytes: small enough to spread a 40 MB tensor over the cores.</summary>
    private const long SliceBytes = 8 << 20;

    /// <summary>Below this many bytes in all, one thread reads everything (threads would cost more than they save).</summary>
    private const long ParallelFromBytes = 32 << 20;

    /// <summary>One read: a contiguous CPU tensor to fill, the file offset of its first byte, and its name for errors.</summary>
    internal sealed record Read(Tensor Destination, long Offset, string Name);

    /// <exception cref="IOException">The file ended early (the message names the tensor) or could not be read.</exception>
    public static void ReadAll(SafeFileHandle file, string path, IReadOnlyList<Read> reads)
    {
        using var scope = NewDisposeScope();
        var slices = new List<(Tensor Slice, long Offset, string Name)>();
        long total = 0;
        foreach (var read in reads)
        {
            var flat = read.Destination.view(-1);
            var perSlice = Math.Max(1, SliceBytes / read.Destination.ElementSize);
            for (long start = 0; start < flat.shape[0]; start += perSlice)
            {
                var slice = flat.narrow(0, start, Math.Min(perSlice, flat.shape[0] - start));
                slices.Add((slice, read.Offset + start * read.Destination.ElementSize, read.Name));
                total += slice.NumberOfElements * slice.ElementSize;
            }
        }
        var threads = total < ParallelFromBytes ? 1 : Math.Clamp(Environment.ProcessorCount, 1, 8);
        try
        {
            Parallel.ForEach(slices, new ParallelOptions { MaxDegreeOfParallelism = threads }, s => ReadSlice(file, path, s.Slice, s.Offset, s.Name));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
    }

    private static void ReadSlice(SafeFileHandle file, string path, Tensor slice, long offset, string name)
    {
        var span = slice.bytes;
        while (span.Length > 0)
        {
            var read = RandomAccess.Read(file, span, offset);
            if (read == 0) throw new EndOfStreamException($"'{path}' ended at byte {offset} while reading tensor '{name}' (was it changed while loading?)");
            span = span[read..];
            offset += read;
        }
    }
}
