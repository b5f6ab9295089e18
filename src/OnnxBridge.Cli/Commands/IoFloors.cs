using static TorchSharp.torch;

namespace OnnxBridge.Cli.Commands;

/// <summary>The raw-I/O reference points that <c>bench-io</c> and the BenchmarkDotNet suite compare loads with.</summary>
internal static class IoFloors
{
    /// <summary>
    /// Reads a file of float32 values with one plain <see cref="FileStream"/> into a new CPU tensor:
    /// what a load costs that must not touch the parameters until every byte has arrived.
    /// </summary>
    public static long ReadIntoNewTensor(string path, long floats)
    {
        using var tensor = empty(floats);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        var flat = tensor.view(-1);
        const long slice = 1 << 28;   // spans are int-sized
        for (long start = 0; start < floats; start += slice)
        {
            using var part = flat.narrow(0, start, Math.Min(slice, floats - start));
            stream.ReadExactly(part.bytes);
        }
        return tensor.NumberOfElements;
    }
}
