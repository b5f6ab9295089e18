namespace OnnxBridge.Tests.Shared;

/// <summary>
/// Feeds a corpus of malformed files to a reader: each must fail with exactly the reader's typed
/// exception — nothing else thrown, nothing loaded — and no read may allocate much more than its
/// file's size, whatever sizes the file claims.
/// </summary>
internal static class MalformedFiles
{
    public static void AssertAllRejected<TException>(IReadOnlyList<(string Label, byte[] Bytes)> corpus, string extension, Action<string> read, long slackBytes = 512 * 1024)
        where TException : Exception
    {
        using var temp = new TempFolder();
        var path = temp.File("malformed" + extension);
        var failures = new List<string>();
        foreach (var (label, bytes) in corpus)
        {
            File.WriteAllBytes(path, bytes);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                read(path);
                failures.Add($"{label}: loaded without error");
            }
            catch (TException)
            {
                // expected
            }
            catch (Exception e)
            {
                failures.Add($"{label}: {e.GetType().Name}: {e.Message}");
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > 8L * bytes.Length + slackBytes)
                failures.Add($"{label}: allocated {allocated} bytes for a {bytes.Length}-byte file");
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} of {corpus.Count} malformed files were not rejected cleanly:\n" + string.Join("\n", failures));
    }
}
