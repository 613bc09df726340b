using System.Diagnostics;
using NpgsqlTypes;
using PatroniModel.Reconciler.Positions;
using PatroniModel.Reconciler.Reports;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Positions;

/// <summary>A save replaces the position file atomically and durably, survives a crash at any point, and never goes backwards.</summary>
public sealed class FilePositionStoreDurabilityTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("positions-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static ConfirmedPosition At(string lsn, int? timeline = null) => new(NpgsqlLogSequenceNumber.Parse(lsn), timeline);

    [Fact]
    public async Task Save_ReplacesTheFileByRename_AHardLinkToTheOldFileKeepsTheOldPosition()
    {
        // Given a stored position and a hard link to its file
        var store = new FilePositionStore(_directory);
        await store.SaveAsync("s1", At("0/3000060", 1));
        var old = await File.ReadAllTextAsync(store.PathOf("s1"));
        var link = Path.Combine(_directory, "old-link");
        using (var ln = Process.Start("ln", [store.PathOf("s1"), link]))
        {
            await ln.WaitForExitAsync();
            Assert.Equal(0, ln.ExitCode);
        }

        // When
        await store.SaveAsync("s1", At("1/0", 2));

        // Then the link still holds the old file (the new one is a new inode renamed over the name), the name the new one
        Assert.Equal(old, await File.ReadAllTextAsync(link));
        Assert.Equal(At("1/0", 2), await new FilePositionStore(_directory).LoadAsync("s1"));
    }

    [Fact]
    public async Task Save_WritesATemporaryFileFsyncsRenamesAndFsyncsTheDirectoryInThatOrder()
    {
        // Given
        var files = new RecordingFiles();
        var store = new FilePositionStore(_directory, files);

        // When
        await store.SaveAsync("s1", At("0/3000060"));

        // Then
        var temporary = Assert.Single(files.Calls, c => c.StartsWith("write ", StringComparison.Ordinal))["write ".Length..];
        Assert.Equal(_directory, Path.GetDirectoryName(temporary));
        Assert.NotEqual(store.PathOf("s1"), temporary);
        Assert.Equal(
            [$"lock {_directory}", $"write {temporary}", $"rename {temporary} {store.PathOf("s1")}", $"sync {_directory}", $"delete {temporary}", "unlock"],
            files.Calls);
        Assert.False(File.Exists(temporary));
    }

    [Fact]
    public async Task Save_TheSamePositionAgain_WritesNothing()
    {
        var files = new RecordingFiles();
        var store = new FilePositionStore(_directory, files);
        await store.SaveAsync("s1", At("0/3000060"));
        files.Calls.Clear();

        await store.SaveAsync("s1", At("0/3000060"));

        Assert.Equal([$"lock {_directory}", "unlock"], files.Calls);
    }

    public static TheoryData<int> CrashPoints => [0, 1, 2, 3, 4];

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public async Task Save_KilledAtAnyPoint_LeavesTheOldOrTheNewPositionNeverATornOne(int crashPoint)
    {
        // Given a stored position, and a save that "crashes" at one point: 0 halfway through writing, 1 after the write
        // before its fsync returns, 2 before the rename, 3 after the rename before the directory fsync, 4 after it
        await new FilePositionStore(_directory).SaveAsync("s1", At("0/3000060", 1));
        var crashing = new FilePositionStore(_directory, new CrashingFiles(crashPoint));

        // When
        await Assert.ThrowsAsync<SimulatedCrash>(() => crashing.SaveAsync("s1", At("1/0", 2)));

        // Then a restarted consumer reads a whole position: the old one, or the new one once the rename happened
        var loaded = await new FilePositionStore(_directory).LoadAsync("s1");
        Assert.Equal(crashPoint >= 3 ? At("1/0", 2) : At("0/3000060", 1), loaded);
    }

    [Fact]
    public async Task Save_FromTwoStoresAtOnce_NeverMovesThePositionBackwards()
    {
        // Given store A stopped in the middle of saving 0/7000000 (it read 0/5000000 and is writing)
        await new FilePositionStore(_directory).SaveAsync("s1", At("0/5000000"));
        var paused = new PausingFiles();
        var a = new FilePositionStore(_directory, paused);
        var saveA = a.SaveAsync("s1", At("0/7000000"));
        Assert.True(await paused.Writing.Task.WaitAsync(TimeSpan.FromSeconds(10)));

        // When store B (another process, or another instance) saves 0/9000000 meanwhile, then A goes on
        var saveB = new FilePositionStore(_directory).SaveAsync("s1", At("0/9000000"));
        await Task.WhenAny(saveB, Task.Delay(300));
        paused.Resume.SetResult();
        await saveA;
        await saveB;

        // Then B waited for A, and the highest position is the stored one
        Assert.Equal(At("0/9000000"), await new FilePositionStore(_directory).LoadAsync("s1"));
    }

    private sealed class SimulatedCrash : Exception;

    /// <summary>The real file system, each call recorded.</summary>
    private sealed class RecordingFiles : IPositionFiles
    {
        public List<string> Calls { get; } = [];

        public async Task WriteDurablyAsync(string path, byte[] content, CancellationToken cancellationToken)
        {
            Calls.Add($"write {path}");
            await PositionFiles.Posix.WriteDurablyAsync(path, content, cancellationToken);
        }

        public void Rename(string source, string destination)
        {
            Calls.Add($"rename {source} {destination}");
            PositionFiles.Posix.Rename(source, destination);
        }

        public void SyncDirectory(string directory)
        {
            Calls.Add($"sync {directory}");
            PositionFiles.Posix.SyncDirectory(directory);
        }

        public void DeleteIfExists(string path)
        {
            Calls.Add($"delete {path}");
            PositionFiles.Posix.DeleteIfExists(path);
        }

        public async Task<IDisposable> LockAsync(string directory, CancellationToken cancellationToken)
        {
            Calls.Add($"lock {directory}");
            var inner = await PositionFiles.Posix.LockAsync(directory, cancellationToken);
            return new Unlock(this, inner);
        }

        private sealed class Unlock(RecordingFiles files, IDisposable inner) : IDisposable
        {
            public void Dispose()
            {
                files.Calls.Add("unlock");
                inner.Dispose();
            }
        }
    }

    /// <summary>The real file system until the crash point; a crash leaves what was written (no clean-up runs).</summary>
    private sealed class CrashingFiles(int crashPoint) : IPositionFiles
    {
        public async Task WriteDurablyAsync(string path, byte[] content, CancellationToken cancellationToken)
        {
            if (crashPoint == 0)
            {
                await File.WriteAllBytesAsync(path, content[..(content.Length / 2)], cancellationToken);
                throw new SimulatedCrash();
            }
            await PositionFiles.Posix.WriteDurablyAsync(path, content, cancellationToken);
            if (crashPoint == 1)
            {
                throw new SimulatedCrash();
            }
        }

        public void Rename(string source, string destination)
        {
            if (crashPoint == 2)
            {
                throw new SimulatedCrash();
            }
            PositionFiles.Posix.Rename(source, destination);
            if (crashPoint == 3)
            {
                throw new SimulatedCrash();
            }
        }

        public void SyncDirectory(string directory)
        {
            PositionFiles.Posix.SyncDirectory(directory);
            if (crashPoint == 4)
            {
                throw new SimulatedCrash();
            }
        }

        public void DeleteIfExists(string path)
        {
        }

        public Task<IDisposable> LockAsync(string directory, CancellationToken cancellationToken) =>
            PositionFiles.Posix.LockAsync(directory, cancellationToken);
    }

    /// <summary>The real file system, but a write waits until the test resumes it.</summary>
    private sealed class PausingFiles : IPositionFiles
    {
        public TaskCompletionSource<bool> Writing { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Resume { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task WriteDurablyAsync(string path, byte[] content, CancellationToken cancellationToken)
        {
            Writing.TrySetResult(true);
            await Resume.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            await PositionFiles.Posix.WriteDurablyAsync(path, content, cancellationToken);
        }

        public void Rename(string source, string destination) => PositionFiles.Posix.Rename(source, destination);
        public void SyncDirectory(string directory) => PositionFiles.Posix.SyncDirectory(directory);
        public void DeleteIfExists(string path) => PositionFiles.Posix.DeleteIfExists(path);

        public Task<IDisposable> LockAsync(string directory, CancellationToken cancellationToken) =>
            PositionFiles.Posix.LockAsync(directory, cancellationToken);
    }
}
