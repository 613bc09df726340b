using NpgsqlTypes;
using PatroniModel.Reconciler.Audit;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Audit;

/// <summary>
/// <c>ensure --check</c> on the real leader: everything is read, nothing is created; a missing slot's gap ends at the
/// leader's current WAL position.
/// </summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class CheckOnlyEndpointTests(LocalPatroniCluster cluster)
{
    [Fact]
    public async Task EnsureSlot_WhenTheSlotIsMissing_ReportsTheGapToTheLeadersPositionAndCreatesNothing()
    {
        // Given a consumer position behind the leader's WAL and no slot
        var slot = cluster.UniqueSlot("check_missing");
        var consumer = await cluster.CurrentWalLsnAsync();
        await cluster.MoveWalAsync();
        using var inner = cluster.NewEndpoint();
        var endpoint = new CheckOnlyEndpoint(inner);

        // When
        var report = await new SlotReconciler(endpoint).EnsureSlotAsync(slot, new ConfirmedPosition(consumer, 1));

        // Then
        var leader = await cluster.CurrentWalLsnAsync();
        Assert.Null(await cluster.ConfirmedFlushAsync(slot));
        Assert.Equal([slot], endpoint.MissingSlots);
        Assert.Equal(SlotOutcome.RecreatedWithGap, report.Outcome);
        Assert.Equal(report.LeaderLsn, report.SlotPosition);
        Assert.Equal(new WalGap(consumer, report.LeaderLsn), report.Gap);
        Assert.True(report.LeaderLsn <= leader);
        Assert.True(report.LeaderLsn > consumer);
        Assert.False(report.FailoverSlot);
        Assert.True(report.CreatedByReconciler);
    }

    [Fact]
    public async Task EnsureSlot_WhenTheSlotExists_FindsItAndRecordsNothingMissing()
    {
        // Given a slot at the consumer's position
        var slot = cluster.UniqueSlot("check_found");
        await cluster.ExecuteAsync("SELECT pg_create_logical_replication_slot($1::name, 'test_decoding')", slot);
        try
        {
            var position = (await cluster.ConfirmedFlushAsync(slot))!.Value;
            using var inner = cluster.NewEndpoint();
            var endpoint = new CheckOnlyEndpoint(inner);

            // When
            var report = await new SlotReconciler(endpoint).EnsureSlotAsync(slot, new ConfirmedPosition(position, 1));

            // Then
            Assert.Empty(endpoint.MissingSlots);
            Assert.Equal(SlotOutcome.Found, report.Outcome);
            Assert.Equal(position, report.SlotPosition);
            Assert.False(report.CreatedByReconciler);
            Assert.False(report.IsAlarm);
        }
        finally
        {
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    [Fact]
    public async Task EnsureSlot_OnANewerTimeline_ReadsTheLeadersHistoryThroughTheCheck()
    {
        // Given the promoted copy (timeline 2, forked from timeline 1 at F) as the leader, and a consumer at F on timeline 1
        var copy = await cluster.PromotedCopyAsync();
        var history = await cluster.ScalarOnAsync<string>(copy.Port, "SELECT pg_read_file('pg_wal/00000002.history')");
        var fork = NpgsqlLogSequenceNumber.Parse(history.Split('\t')[1]);
        var slot = cluster.UniqueSlot("check_tl");
        using var inner = cluster.NewEndpoint(_ => ("127.0.0.1", copy.Port));
        var endpoint = new CheckOnlyEndpoint(inner);

        // When a consumer one byte past F asks
        var report = await new SlotReconciler(endpoint).EnsureSlotAsync(slot, new ConfirmedPosition(new NpgsqlLogSequenceNumber((ulong)fork + 1), 1));

        // Then
        Assert.Equal(SlotOutcome.Diverged, report.Outcome);
        Assert.Equal(new TimelineFork(fork, 1, 2), report.Fork);
        Assert.Equal([slot], endpoint.MissingSlots);
        Assert.Equal(0L, await cluster.ScalarOnAsync<long>(copy.Port, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1::name", slot));
    }
}
