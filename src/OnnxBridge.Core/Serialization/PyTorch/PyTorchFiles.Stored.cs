using System.Collections.Concurrent;
using System.IO.Compression;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Serialization.PyTorch;

/// <summary>Loading from an open archive: the stored tensors that a state-dict load reads straight into tensor memory.</summary>
internal static partial class PyTorchFiles
{
    /// <summary>An archive whose root object has been read; <see cref="StoredTensor"/>s in it read from it until it is disposed.</summary>
    internal sealed class OpenArchive(FileStream file, ZipArchive zip, object? root) : IDisposable
    {
        /// <summary>Below this many bytes in all, one thread reads every record (threads would cost more than they save).</summary>
        private const long ParallelFromBytes = 32 << 20;

        public object? Root { get; } = root;

        /// <summary>
        /// Reads each stored tensor into its destination. From 32 MB on, the records are spread over
        /// up to 8 threads, each reading through its own <see cref="ZipArchive"/> over the same open
        /// file (<see cref="PositionalStream"/>): most of a load's time is the page faults of the new
        /// destination memory, which then run on every core (docs/benchmarks.md).
        /// </summary>
        /// <exception cref="PyTorchFileException">A record could not be read or ended early.</exception>
        public void ReadAll(IReadOnlyList<(StoredTensor Stored, TorchSharp.torch.Tensor Destination)> reads)
        {
            var threads = reads.Sum(r => r.Stored.Length) < ParallelFromBytes ? 1 : Math.Clamp(Environment.ProcessorCount, 1, 8);
            if (threads == 1 || reads.Count == 1)
            {
                foreach (var (stored, destination) in reads) stored.ReadInto(destination, stored.Record);
                return;
            }
            // Largest first, one record at a time (no chunks), so no thread is left with big records at the end.
            var ordered = Partitioner.Create(reads.OrderByDescending(r => r.Stored.Length), EnumerablePartitionerOptions.NoBuffering);
            try
            {
                Parallel.ForEach(ordered, new ParallelOptions { MaxDegreeOfParallelism = threads }, WorkerArchive,
                    (read, _, archive) =>
                    {
                        read.Stored.ReadInto(read.Destination, archive.GetEntry(read.Stored.Record.FullName));
                        return archive;
                    },
                    archive => archive.Dispose());
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
                throw;
            }
        }

        /// <summary>A second reader of the same open file: its own zip directory and position.</summary>
        private ZipArchive WorkerArchive()
        {
            try
            {
                return new ZipArchive(new PositionalStream(file.SafeFileHandle, file.Length), ZipArchiveMode.Read);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                throw new PyTorchFileException($"'{file.Name}' changed while it was being read: {e.Message}", e);
            }
        }

        public void Dispose()
        {
            zip.Dispose();
            file.Dispose();
        }
    }

    /// <summary>A tensor that is a whole storage record in row-major order, not read yet.</summary>
    internal sealed class StoredTensor(string path, ZipArchiveEntry record, DataType type, long[] shape)
    {
        /// <summary>Bytes per read: a span over tensor memory is bounded, and slices keep it far below that.</summary>
        private const long SliceBytes = 8 << 20;

        public DataType Type { get; } = type;

        public long[] Shape { get; } = shape;

        /// <summary>The record in the archive that opened it (checked no larger than the file).</summary>
        internal ZipArchiveEntry Record { get; } = record;

        /// <summary>The record's bytes.</summary>
        public long Length => Record.Length;

        /// <summary>
        /// Reads the record into <paramref name="destination"/>, a contiguous CPU tensor of this type
        /// and shape, through <paramref name="entry"/>: the record as found by an archive over the same file.
        /// </summary>
        /// <exception cref="PyTorchFileException">The record could not be read, ended early, or is not the one first found.</exception>
        public void ReadInto(TorchSharp.torch.Tensor destination, ZipArchiveEntry? entry)
        {
            if (entry is null || entry.Length != Record.Length || entry.CompressedLength != Record.CompressedLength)
                throw new PyTorchFileException($"'{path}': record '{Record.FullName}' changed while it was being read");
            using var scope = TorchSharp.torch.NewDisposeScope();
            var flat = destination.view(-1);
            var perSlice = Math.Max(1, SliceBytes / destination.ElementSize);
            try
            {
                using var stream = entry.Open();
                for (long start = 0; start < flat.shape[0]; start += perSlice)
                    stream.ReadExactly(flat.narrow(0, start, Math.Min(perSlice, flat.shape[0] - start)).bytes);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
            {
                throw new PyTorchFileException($"'{path}': record '{Record.FullName}' could not be read: {e.Message}", e);
            }
        }
    }
}
