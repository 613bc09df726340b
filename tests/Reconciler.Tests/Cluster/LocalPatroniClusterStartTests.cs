using System.Diagnostics;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Cluster;

/// <summary>
/// The fixture itself: it starts Patroni, etcd and PostgreSQL as the <c>postgres</c> user, and must not depend on the
/// test host's working directory (a clone under <c>/root</c>, or in a 0700 <c>mktemp -d</c> folder, is one that
/// <c>postgres</c> cannot enter). Runs alone: it changes the test host's working directory.
/// </summary>
[Collection(FixtureStartCollection.Name)]
public sealed class LocalPatroniClusterStartTests
{
    [Fact]
    public async Task InitializeAsync_FromAWorkingDirectoryPostgresCannotEnter_GetsItsLeader()
    {
        // Given: the test host runs in a 0700 folder of its own user's
        var unreadable = Directory.CreateTempSubdirectory("patroni-model-0700-").FullName;
        File.SetUnixFileMode(unreadable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var previous = Directory.GetCurrentDirectory();
        var cluster = new LocalPatroniCluster(shared: null);
        try
        {
            Directory.SetCurrentDirectory(unreadable);
            if (Posix.IsRoot)
            {
                Assert.False(PostgresCanEnter(unreadable), $"the postgres user can enter {unreadable}; the test would prove nothing");
            }

            // When: the fixture starts its cluster from there
            await cluster.InitializeAsync();

            // Then: Patroni bootstrapped and leads a writable PostgreSQL, and nothing it started ran in the host's folder
            Assert.True(await cluster.ScalarAsync<bool>("SELECT NOT pg_is_in_recovery()"));
            Assert.Equal(cluster.Root, cluster.WorkingDirectory);
            Assert.Empty(Directory.EnumerateFileSystemEntries(unreadable));
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
            await cluster.DisposeAsync();
            Directory.Delete(unreadable, recursive: true);
        }
    }

    private static bool PostgresCanEnter(string directory)
    {
        var start = new ProcessStartInfo("setpriv") { WorkingDirectory = "/", RedirectStandardError = true };
        foreach (var a in new[] { "--reuid=postgres", "--regid=postgres", "--init-groups", "--", "test", "-x", directory })
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FixtureStartCollection
{
    public const string Name = "local patroni fixture start";
}
