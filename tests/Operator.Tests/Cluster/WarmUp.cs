using PatroniModel.Tests.ReconcilerTests.Cluster;

namespace PatroniModel.Tests.OperatorTests.Cluster;

/// <summary>
/// Seen here: right after the fixture's member became a writable leader, Patroni 3.0.2's first HA loops still reload its
/// slot state and drop an unknown slot created in that window. Before the first test that creates a slot, this waits
/// until a canary slot either is dropped or survives several loops (loop_wait is 1 s), once per test run.
/// </summary>
public static class WarmUp
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool _done;

    public static async Task WarmedUpAsync(this LocalPatroniCluster cluster)
    {
        await Gate.WaitAsync();
        try
        {
            if (_done)
            {
                return;
            }
            var canary = cluster.UniqueSlot("canary");
            await cluster.ExecuteAsync("SELECT pg_create_logical_replication_slot($1::name, 'test_decoding')", canary);
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (DateTime.UtcNow < until && await cluster.ConfirmedFlushAsync(canary) is not null)
            {
                await Task.Delay(100);
            }
            await cluster.DropSlotWhenInactiveAsync(canary);
            _done = true;
        }
        finally
        {
            Gate.Release();
        }
    }
}
