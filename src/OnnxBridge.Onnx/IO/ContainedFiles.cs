using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OnnxBridge.Onnx.IO;

/// <summary>
/// Opens files that a model file names relative to its folder (external data, test data) under
/// the rule ONNX Runtime applies: the path is relative, stays inside the folder after every
/// symbolic link is resolved, and names a regular file. A FIFO, socket or device is refused without
/// blocking on it (opening a FIFO for reading waits for a writer forever).
/// </summary>
internal static class ContainedFiles
{
    /// <summary>
    /// The real path of <paramref name="relative"/> inside <paramref name="folder"/>, with every
    /// symbolic link resolved; <paramref name="what"/> starts the error message.
    /// </summary>
    /// <exception cref="OnnxFileException">The path is absolute, leaves the folder (by <c>..</c> or a link) or does not exist.</exception>
    public static string Resolve(string folder, string relative, string what)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(relative);
        var root = Path.GetFullPath(folder);
        var lexical = Path.GetFullPath(Path.Combine(root, relative));
        if (Path.IsPathRooted(relative) || !IsInside(lexical, root))
            throw new OnnxFileException($"{what} location '{relative}' leaves the model folder '{root}'");
        if (!File.Exists(lexical) && !Directory.Exists(lexical))
            throw new OnnxFileException($"{what} file '{lexical}' does not exist");
        var realRoot = RealPath(root);
        var real = RealPath(lexical);
        if (!IsInside(real, realRoot))
            throw new OnnxFileException($"{what} location '{relative}' is a symbolic link (or passes through one) to '{real}', outside the model folder '{root}'");
        return real;
    }

    /// <summary>Opens <paramref name="path"/> for reading if it is a regular file; never blocks on a FIFO.</summary>
    /// <exception cref="OnnxFileException">The path is a FIFO, socket, device or folder.</exception>
    public static FileStream OpenRegular(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux())
        {
            // Elsewhere a file name cannot be a FIFO that blocks on open (Windows pipes live under \\.\pipe\).
            if (Directory.Exists(path)) throw new OnnxFileException($"{what} '{path}' is a folder, not a regular file");
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        var fd = Linux.open(path, Linux.O_RDONLY | Linux.O_NONBLOCK | Linux.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno == 2
                ? new FileNotFoundException($"{what} file '{path}' does not exist", path)
                : new IOException($"{what} file '{path}' cannot be opened (errno {errno})");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var type = Linux.FileType(handle);
        if (type != Linux.S_IFREG)
        {
            handle.Dispose();
            throw new OnnxFileException($"{what} '{path}' is {Linux.Describe(type)}, not a regular file");
        }
        return new FileStream(handle, FileAccess.Read);
    }

    private static bool IsInside(string path, string root) =>
        path.StartsWith(Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>The path with every symbolic link in it resolved (a broken or looping link is an error).</summary>
    private static string RealPath(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            var info = new FileInfo(path);
            return info.LinkTarget is null ? info.FullName : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
        }
        var resolved = Linux.realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
            throw new OnnxFileException($"'{path}' cannot be resolved (a broken or looping symbolic link?), errno {Marshal.GetLastPInvokeError()}");
        try
        {
            return Marshal.PtrToStringUTF8(resolved)!;
        }
        finally
        {
            Linux.free(resolved);
        }
    }

    /// <summary>The few libc calls .NET has no managed form of: open without blocking, file type, realpath.</summary>
    private static class Linux
    {
        public const int O_RDONLY = 0, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
        public const int S_IFMT = 0xF000, S_IFREG = 0x8000;
        private const int AT_EMPTY_PATH = 0x1000, STATX_TYPE = 0x1;

        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

        [DllImport("libc")]
        public static extern void free(IntPtr pointer);

        // struct statx has the same layout on every Linux architecture; stx_mode is the u16 at offset 28.
        [DllImport("libc", SetLastError = true)]
        private static extern int statx(SafeFileHandle dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

        public static int FileType(SafeFileHandle handle)
        {
            var buffer = new byte[256];
            if (statx(handle, "", AT_EMPTY_PATH, STATX_TYPE, buffer) != 0)
                throw new IOException($"statx failed (errno {Marshal.GetLastPInvokeError()})");
            return BitConverter.ToUInt16(buffer, 28) & S_IFMT;
        }

        public static string Describe(int type) => type switch
        {
            0x1000 => "a FIFO",
            0x2000 => "a character device",
            0x4000 => "a folder",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => $"of file type 0x{type:X}",
        };
    }
}
