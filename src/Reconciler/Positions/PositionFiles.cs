using System.Runtime.InteropServices;

namespace PatroniModel.Reconciler.Positions;

/// <summary>
/// The file-system calls a <see cref="FilePositionStore"/> save makes, in this order: write and fsync a temporary file,
/// rename it over the position file, fsync the directory (and remove a temporary file a failed save left). A seam, so a
/// test can stop a save between any two calls, or in the middle of a write, as a crash would.
/// </summary>
internal interface IPositionFiles
{
    /// <summary>Creates <paramref name="path"/> (it must not exist), writes <paramref name="content"/> and fsyncs it.</summary>
    Task WriteDurablyAsync(string path, byte[] content, CancellationToken cancellationToken);

    /// <summary>rename(2): replaces <paramref name="destination"/> atomically.</summary>
    void Rename(string source, string destination);

    /// <summary>fsync of the directory, so a rename in it survives a crash.</summary>
    void SyncDirectory(string directory);

    void DeleteIfExists(string path);

    /// <summary>
    /// An exclusive lock on the directory (flock(2)) for one save's read-compare-write, so two stores (two processes, or
    /// two instances in one) can't interleave and move a position backwards.
    /// </summary>
    Task<IDisposable> LockAsync(string directory, CancellationToken cancellationToken);
}

/// <summary>The real file system.</summary>
internal sealed class PositionFiles : IPositionFiles
{
    public static readonly PositionFiles Posix = new();

    public async Task WriteDurablyAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
        await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        stream.Flush(flushToDisk: true);
    }

    public void Rename(string source, string destination) => File.Move(source, destination, overwrite: true);

    public void DeleteIfExists(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    public async Task<IDisposable> LockAsync(string directory, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return new DirectoryLock(-1);
        }
        var fd = Libc.open(directory, 0);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to lock it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            while (Libc.flock(fd, Libc.LOCK_EX | Libc.LOCK_NB) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EWOULDBLOCK && errno != Libc.EINTR)
                {
                    throw new IOException($"flock of directory {directory} failed (errno {errno})");
                }
                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
            }
            return new DirectoryLock(fd);
        }
        catch
        {
            _ = Libc.close(fd);
            throw;
        }
    }

    /// <summary>Closing the descriptor releases the flock.</summary>
    private sealed class DirectoryLock(int fd) : IDisposable
    {
        private int _fd = fd;

        public void Dispose()
        {
            var fd = Interlocked.Exchange(ref _fd, -1);
            if (fd >= 0)
            {
                _ = Libc.close(fd);
            }
        }
    }

    /// <summary>fsync of the directory (POSIX only; elsewhere the rename is what we get).</summary>
    public void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return;
        }
        var fd = Libc.open(directory, 0);
        if (fd < 0)
        {
            return;
        }
        try
        {
            if (Libc.fsync(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno is not (Libc.EINVAL or Libc.EROFS))
                {
                    throw new IOException($"fsync of directory {directory} failed (errno {errno})");
                }
            }
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    private static class Libc
    {
        public const int EINVAL = 22;
        public const int EROFS = 30;
        public const int EINTR = 4;
        public const int EWOULDBLOCK = 11;
        public const int LOCK_EX = 2;
        public const int LOCK_NB = 4;

        [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int flock(int fd, int operation);
    }
}
