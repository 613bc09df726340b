using System.Text.Json;
using Npgsql;

namespace PatroniModel.Tests.ReconcilerTests.Cluster;

/// <summary>
/// The shared cluster: with <see cref="SharedVariable"/> naming a folder, the first test host starts the cluster there
/// (etcd, Patroni, and on first use the promoted copy and the leaderless member), detached, and every later test host
/// adopts it instead of starting its own. Stryker starts one test host per mutant it tests; a cluster start costs
/// 10-40 s on 2 shared cores, a test host that adopts one costs nothing. Nothing is stopped at dispose:
/// <c>scripts/mutation.sh</c> stops the processes by the pid files (<c>*.log.pid</c>) and removes the folder. Test
/// hosts must not share it at the same time (Stryker's concurrency 1): on adopting, logical slots a killed test host left
/// behind are dropped, so <c>max_replication_slots</c> never runs out.
/// </summary>
public sealed partial class LocalPatroniCluster
{
    /// <summary>The environment variable that names the shared cluster's folder.</summary>
    public const string SharedVariable = "PATRONI_MODEL_RECONCILER_CLUSTER";

    private readonly string? _shared;

    private sealed record SharedState(string Root, int EtcdPort, int RestPort, int PostgresPort);

    private async Task InitializeSharedAsync()
    {
        Directory.CreateDirectory(_shared!);
        File.SetUnixFileMode(_shared!, (UnixFileMode)0b111_101_101);
        using var gate = await SharedLockAsync().ConfigureAwait(false);
        if (ReadShared<SharedState>("cluster.json") is { } state)
        {
            (Root, EtcdPort, RestPort, PostgresPort) = (state.Root, state.EtcdPort, state.RestPort, state.PostgresPort);
            try
            {
                await WaitForLeaderAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
                await ExecuteAsync("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active AND slot_type = 'logical'").ConfigureAwait(false);
                // A dropped slot Patroni knew, or a reload the last test host left pending, would drop this host's slots.
                await SettleSlotsAsync().ConfigureAwait(false);
                return;
            }
            catch (TimeoutException)
            {
                // The shared cluster is gone (stopped, or the machine restarted): start a new one.
            }
        }
        Root = Path.Combine(_shared!, $"cluster-{Environment.ProcessId}-{DateTime.UtcNow:HHmmssfff}");
        Directory.CreateDirectory(Root);
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);
        await StartAsync().ConfigureAwait(false);
        WriteShared("cluster.json", new SharedState(Root, EtcdPort, RestPort, PostgresPort));
    }

    private async Task<PromotedCopy> SharedCopyAsync()
    {
        using var gate = await SharedLockAsync().ConfigureAwait(false);
        if (ReadShared<PromotedCopy>("copy.json") is { } copy && File.Exists(Path.Combine(copy.DataDirectory, "postmaster.pid")))
        {
            try
            {
                await ScalarOnAsync<bool>(copy.Port, "SELECT NOT pg_is_in_recovery()").ConfigureAwait(false);
                return copy;
            }
            catch (NpgsqlException)
            {
                // Not answering: make a new one.
            }
        }
        var started = await StartPromotedCopyAsync().ConfigureAwait(false);
        WriteShared("copy.json", started);
        return started;
    }

    private async Task<Uri> SharedLeaderlessAsync()
    {
        using var gate = await SharedLockAsync().ConfigureAwait(false);
        if (ReadShared<Uri>("leaderless.json") is { } url)
        {
            try
            {
                if ((await _http.GetStringAsync(new Uri(url, "cluster")).ConfigureAwait(false)).Contains("\"pg9\"", StringComparison.Ordinal))
                {
                    return url;
                }
            }
            catch (HttpRequestException)
            {
                // Not answering: start a new one.
            }
        }
        var started = await StartLeaderlessAsync().ConfigureAwait(false);
        WriteShared("leaderless.json", started);
        return started;
    }

    private T? ReadShared<T>(string name) where T : class
    {
        var path = Path.Combine(_shared!, name);
        return File.Exists(path) ? JsonSerializer.Deserialize<T>(File.ReadAllText(path)) : null;
    }

    private void WriteShared<T>(string name, T value) => File.WriteAllText(Path.Combine(_shared!, name), JsonSerializer.Serialize(value));

    /// <summary>An exclusive lock on the shared folder's <c>.lock</c> file (.NET takes flock for FileShare.None), waited for up to 5 minutes.</summary>
    private async Task<IDisposable> SharedLockAsync()
    {
        var path = Path.Combine(_shared!, ".lock");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
    }
}
