using NpgsqlTypes;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Slots;

/// <summary>
/// Each EnsureSlot outcome on a real Patroni leader, asserted with the exact LSNs PostgreSQL reports.
/// A slot's loss is simulated by dropping it; WAL is moved with a logical message and a segment switch.
/// </summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class SlotReconcilerOutcomeTests(LocalPatroniCluster cluster) : IAsyncLifetime
{
    private readonly List<string> _slots = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var slot in _slots)
        {
            await cluster.DropSlotAsync(slot);
        }
    }

    private string NewSlot(string prefix)
    {
        var slot = cluster.UniqueSlot(prefix);
        _slots.Add(slot);
        return slot;
    }

    [Fact]
    public async Task EnsureSlot_WhenNoConsumerPositionYet_CreatesAFreshSlotWithoutAlarm()
    {
        // Given a slot that does not exist and a consumer that never confirmed anything
        var slot = NewSlot("fresh");
        using var endpoint = cluster.NewEndpoint();
        var before = await cluster.CurrentWalLsnAsync();

        // When
        var report = await new SlotReconciler(endpoint).EnsureSlotAsync(slot, null);

        // Then
        var confirmedFlush = await cluster.ConfirmedFlushAsync(slot);
        Assert.Equal(SlotOutcome.Created, report.Outcome);
        Assert.False(report.IsAlarm);
        Assert.True(report.CreatedByReconciler);
        Assert.Equal(confirmedFlush, report.SlotPosition);
        Assert.True(report.SlotPosition > before);
        Assert.Null(report.Gap);
        Assert.Equal(LocalPatroniCluster.Member, report.Leader);
        Assert.Equal(1, report.Timeline);
        Assert.Equal(SlotProtection.Unprotected, report.Protection);
        Assert.False(report.PermanentSlotWasMissing);
        Assert.False(report.FailoverSlot);
        Assert.Contains("\"failover_slot\":false,\"permanent_slot_was_missing\":false", report.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureSlot_WhenSlotLostAndWalMoved_ReportsGapFromLastConfirmedToTheNewSlotsConsistentPoint()
    {
        // Given a slot whose confirmed_flush_lsn the consumer persisted
        var slot = NewSlot("gap");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        await reconciler.EnsureSlotAsync(slot, null);
        var lastConfirmed = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        // ... then WAL moves on and the slot is lost
        var walAfterMove = await cluster.MoveWalAsync();
        await cluster.DropSlotAsync(slot);

        // When
        var report = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(lastConfirmed));

        // Then the gap runs exactly from the consumer's position to the re-created slot's confirmed_flush_lsn
        var end = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        Assert.Equal(SlotOutcome.RecreatedWithGap, report.Outcome);
        Assert.True(report.IsAlarm);
        Assert.NotNull(report.Gap);
        Assert.Equal(lastConfirmed, report.Gap.Start);
        Assert.Equal(end, report.Gap.End);
        Assert.Equal((ulong)end - (ulong)lastConfirmed, report.Gap.Bytes);
        Assert.True(end > walAfterMove, $"the new slot starts at {end}, past the WAL moved to ({walAfterMove})");
        Assert.True(report.Gap.Bytes > 16UL * 1024 * 1024 - 1024, "a segment switch lies in the gap");
        Assert.Equal(end, report.SlotPosition);
        Assert.True(report.CreatedByReconciler);
    }

    [Fact]
    public async Task EnsureSlot_WhenSlotLostButNoWalWasWrittenSinceTheConsumersPosition_ReportsOnlyTheSlotsOwnSnapshotRecord()
    {
        // Given a consumer that read the slot to the end of WAL (confirmed_flush_lsn = end of WAL), then the slot is lost
        var slot = NewSlot("still");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        await reconciler.EnsureSlotAsync(slot, null);
        await cluster.ExecuteAsync("SELECT count(*) FROM pg_logical_slot_get_changes($1::name, NULL, NULL)", slot);
        var lastConfirmed = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        Assert.Equal(await cluster.ScalarAsync<NpgsqlLogSequenceNumber>("SELECT pg_current_wal_insert_lsn()"), lastConfirmed);
        await cluster.DropSlotAsync(slot);

        // When
        var report = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(lastConfirmed));

        // Then the new slot reserved WAL exactly at the consumer's position (restart_lsn), and the only WAL in between is
        // the running-transactions record PostgreSQL 15 logs while creating a logical slot: a gap of that record alone.
        var restart = await cluster.ScalarAsync<NpgsqlLogSequenceNumber>("SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = $1::name", slot);
        var end = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        Assert.Equal(lastConfirmed, restart);
        Assert.Equal(SlotOutcome.RecreatedWithGap, report.Outcome);
        WalRangeAssert.Exact(lastConfirmed, end, report.Gap);
        Assert.InRange(report.Gap!.Bytes, 1UL, 256UL);
    }

    [Fact]
    public async Task EnsureSlot_WhenSlotLostAndTheLeadersWalNeverReachedTheConsumersPosition_ReportsRecreatedWithoutGapAndAConsumerPastTheEndOfWal()
    {
        // Given a consumer position past anything this leader has written (e.g. confirmed on a server whose WAL went further)
        var slot = NewSlot("nogap");
        using var endpoint = cluster.NewEndpoint();
        var current = await cluster.CurrentWalLsnAsync();
        var lastConfirmed = new NpgsqlLogSequenceNumber((ulong)current + 64UL * 1024 * 1024);

        // When the slot is missing and gets re-created
        var report = await new SlotReconciler(endpoint).EnsureSlotAsync(slot, new ConfirmedPosition(lastConfirmed));

        // Then WAL did not move past the consumer: re-created, no gap; but the consumer's position is past anything this
        // leader wrote, so it was confirmed on another timeline or cluster: an alarm, said in the line and the record
        var end = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        Assert.Equal(SlotOutcome.RecreatedNoGap, report.Outcome);
        Assert.Null(report.Gap);
        Assert.True(report.ConsumerPastEndOfWal);
        Assert.True(report.IsAlarm);
        Assert.True(report.LeaderLsn < lastConfirmed);
        Assert.Contains($"the consumer's position {lastConfirmed} is past the leader's end of WAL {report.LeaderLsn}: it was confirmed on another timeline or another cluster", report.ToLogLine(), StringComparison.Ordinal);
        Assert.Contains("\"consumer_past_end_of_wal\":true", report.ToJson(), StringComparison.Ordinal);
        Assert.Equal(end, report.SlotPosition);
        Assert.True(end <= lastConfirmed);
        Assert.Equal(0UL, report.DuplicateBytes);
    }

    [Fact]
    public async Task EnsureSlot_WhenSlotIsAtTheConsumersPosition_FindsItWithoutAlarm()
    {
        // Given a slot the reconciler created, and the consumer's position equal to its confirmed_flush_lsn
        var slot = NewSlot("found");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        await reconciler.EnsureSlotAsync(slot, null);
        var position = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        await cluster.MoveWalAsync();

        // When it is ensured again
        var report = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(position));

        // Then
        Assert.Equal(SlotOutcome.Found, report.Outcome);
        Assert.False(report.IsAlarm);
        Assert.False(report.CreatedByReconciler);
        Assert.Equal(position, report.SlotPosition);
        Assert.Equal(0UL, report.DuplicateBytes);
        Assert.Null(report.Gap);
        Assert.Equal(position, await cluster.ConfirmedFlushAsync(slot));
    }

    [Fact]
    public async Task EnsureSlot_WhenConsumerPersistedAPositionPastTheSlot_ReportsTheDuplicatesExactly()
    {
        // Given a slot at C and a consumer that persisted P > C before the slot learned about it
        var slot = NewSlot("behind");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        await reconciler.EnsureSlotAsync(slot, null);
        var slotPosition = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        var consumerPosition = await cluster.MoveWalAsync();

        // When
        var report = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(consumerPosition));

        // Then the consumer will see C..P again
        Assert.Equal(SlotOutcome.Found, report.Outcome);
        Assert.True(report.IsAlarm);
        Assert.Equal(slotPosition, report.SlotPosition);
        Assert.Equal((ulong)consumerPosition - (ulong)slotPosition, report.DuplicateBytes);
        Assert.Null(report.Gap);
    }

    [Fact]
    public async Task EnsureSlot_WhenTheConsumersPositionIsAtTheTopOfTheLsnRange_ReportsExactUnsignedDuplicatesAndAConsumerPastTheEndOfWal()
    {
        // Given a slot at C, and a consumer position 2^63 or more past it (FFFFFFFF/FFFFFFFF: another cluster's WAL)
        var slot = NewSlot("top");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        var created = await reconciler.EnsureSlotAsync(slot, null);
        var slotPosition = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        var top = NpgsqlLogSequenceNumber.Parse("FFFFFFFF/FFFFFFFF");

        // When
        var report = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(top));

        // Then the distance is exact (no signed cast), and the report says the position is not this leader's
        Assert.False(created.ConsumerPastEndOfWal);
        Assert.Equal(SlotOutcome.Found, report.Outcome);
        Assert.Equal(ulong.MaxValue - (ulong)slotPosition, report.DuplicateBytes);
        Assert.True(report.DuplicateBytes > (ulong)long.MaxValue);
        Assert.True(report.ConsumerPastEndOfWal);
        Assert.True(report.IsAlarm);
        Assert.Equal(await cluster.ScalarAsync<NpgsqlLogSequenceNumber>("SELECT pg_current_wal_flush_lsn()"), report.LeaderLsn);
        Assert.Contains($"\"duplicate_bytes\":{ulong.MaxValue - (ulong)slotPosition}", report.ToJson(), StringComparison.Ordinal);
        Assert.Contains("past the leader's end of WAL", report.ToLogLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureSlot_WhenTheConsumerIsAtTheLeadersEndOfWal_IsNotPastIt()
    {
        // Given a consumer that read its slot to the leader's end of WAL
        var slot = NewSlot("atend");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        await reconciler.EnsureSlotAsync(slot, null);
        await cluster.ExecuteAsync("SELECT count(*) FROM pg_logical_slot_get_changes($1::name, NULL, NULL)", slot);
        var position = (await cluster.ConfirmedFlushAsync(slot))!.Value;

        // When
        var report = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(position));

        // Then
        Assert.Equal(SlotOutcome.Found, report.Outcome);
        Assert.False(report.ConsumerPastEndOfWal);
        Assert.False(report.IsAlarm);
        Assert.True(report.LeaderLsn >= position);
    }

    [Fact]
    public async Task EnsureSlot_WhenSlotWasAdvancedPastTheConsumer_ReportsFoundAheadWithTheSkippedRange()
    {
        // Given a slot at the consumer's position, then advanced by someone else (pg_replication_slot_advance)
        var slot = NewSlot("ahead");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        await reconciler.EnsureSlotAsync(slot, null);
        var lastConfirmed = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        var target = await cluster.MoveWalAsync();
        await cluster.ExecuteAsync("SELECT pg_replication_slot_advance($1::name, $2::pg_lsn)", slot, target);
        var advanced = (await cluster.ConfirmedFlushAsync(slot))!.Value;

        // When
        var report = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(lastConfirmed));

        // Then it "exists", but the changes between the consumer and the slot are skipped
        Assert.Equal(target, advanced);
        Assert.Equal(SlotOutcome.FoundAhead, report.Outcome);
        Assert.True(report.IsAlarm);
        Assert.False(report.CreatedByReconciler);
        WalRangeAssert.Exact(lastConfirmed, advanced, report.Gap);
        Assert.Equal(advanced, report.SlotPosition);
    }

    [Fact]
    public async Task EnsureSlot_AfterRecreatingWithGap_FindsTheSlotOnTheNextCallWithoutAlarm()
    {
        // Given a slot lost after WAL moved, re-created by the reconciler with a gap
        var slot = NewSlot("again");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        await reconciler.EnsureSlotAsync(slot, null);
        var lastConfirmed = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        await cluster.MoveWalAsync();
        await cluster.DropSlotAsync(slot);
        var first = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(lastConfirmed));

        // When the consumer resumes from the new slot's position and ensures again
        var second = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(first.Gap!.End));

        // Then
        Assert.Equal(SlotOutcome.RecreatedWithGap, first.Outcome);
        Assert.Equal(SlotOutcome.Found, second.Outcome);
        Assert.False(second.IsAlarm);
        Assert.Equal(first.Gap.End, second.SlotPosition);
    }
}
