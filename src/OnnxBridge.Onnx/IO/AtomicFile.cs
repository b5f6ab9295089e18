namespace OnnxBridge.Onnx.IO;

/// <summary>
/// Writes files so that readers see either the old file or the complete new one, never a torn
/// one: the content goes to a temporary file in the same folder, is flushed to disk, then renamed
/// over the target (an atomic replace on the same file system).
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically with whatever <paramref name="write"/> puts in the stream.</summary>
    /// <remarks>The stream is owned by this method; <paramref name="write"/> must not close it.</remarks>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        RemoveOrphans(folder, Path.GetFileName(full));
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Write(path, s => s.Write(bytes));
    }

    /// <summary>
    /// Deletes temporary files that earlier writes of the same target left behind when their process
    /// died mid-write (the process id in the name no longer exists). Files of live writers are kept.
    /// </summary>
    private static void RemoveOrphans(string folder, string name)
    {
        var prefix = "." + name + ".";
        foreach (var candidate in Directory.EnumerateFiles(folder, prefix + "*.tmp"))
        {
            var parts = Path.GetFileName(candidate)[prefix.Length..].Split('.');
            if (parts.Length == 3 && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                && pid != Environment.ProcessId && !IsAlive(pid))
                TryDelete(candidate);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { /* best effort: the original error matters more */ }
        catch (UnauthorizedAccessException) { }
    }
}
