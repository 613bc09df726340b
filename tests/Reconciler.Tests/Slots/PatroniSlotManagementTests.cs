using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Slots;

/// <summary>
/// What Patroni 3.0.2 itself does to logical slots on a healthy leader (measured here; Patroni's slots.py): it re-creates a missing permanent
/// slot at the current LSN, drops an unknown slot when it reloads its slot state (a permanent-slots change,
/// <c>POST /restart</c>), and leaves a slot matched by <c>ignore_slots</c> alone. The reconciler must report each.
/// </summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class PatroniSlotManagementTests(LocalPatroniCluster cluster) : IAsyncLifetime
{
    private static readonly TimeSpan PatroniReaction = TimeSpan.FromSeconds(20);
    private readonly List<string> _slots = [];
    private readonly List<string> _permanent = [];
    private bool _ignoreSlotsSet;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_permanent.Count > 0)
        {
            var removals = string.Join(", ", _permanent.Select(p => $"\"{p}\": null"));
            await cluster.PatchConfigAsync("{\"permanent_slots\": {" + removals + "}}");
        }
        if (_ignoreSlotsSet)
        {
            await cluster.PatchConfigAsync("""{"ignore_slots": null}""");
        }
        foreach (var slot in _slots.Concat(_permanent))
        {
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
        // Each test changed the slot configuration or restarted PostgreSQL: the slot-cache reload that leaves pending
        // must not drop the next test's slots.
        await cluster.SettleSlotsAsync();
    }

    private string NewSlot(string prefix)
    {
        var slot = cluster.UniqueSlot(prefix);
        _slots.Add(slot);
        return slot;
    }

    private async Task DeclarePermanentAsync(string slot)
    {
        _permanent.Add(slot);
        await cluster.PatchConfigAsync("{\"permanent_slots\": {\"" + slot + "\": {\"type\": \"logical\", \"database\": \"postgres\", \"plugin\": \"test_decoding\"}}}");
    }

    private Task WaitUntilGoneAsync(string slot, string after) =>
        cluster.WaitUntilAsync($"Patroni to drop unprotected slot {slot} after {after}",
            async () => await cluster.ConfirmedFlushAsync(slot) is null, PatroniReaction,
            async () => $"slot {slot} still at {await cluster.ConfirmedFlushAsync(slot)}");

    [Fact]
    public async Task EnsureSlot_WhenPatroniRecreatedAMissingPermanentSlot_ReportsFoundAheadWithTheGap()
    {
        // Given a permanent slot Patroni created, whose position the consumer persisted
        var slot = cluster.UniqueSlot("perm");
        await DeclarePermanentAsync(slot);
        await cluster.WaitUntilAsync($"Patroni to create permanent slot {slot}",
            async () => await cluster.ConfirmedFlushAsync(slot) is not null, PatroniReaction);
        var lastConfirmed = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        // ... then WAL moves and the slot is lost; Patroni re-creates it at the current LSN (patroni issue 1056)
        var walAfterMove = await cluster.MoveWalAsync();
        await cluster.DropSlotWhenInactiveAsync(slot);
        await cluster.WaitUntilAsync($"Patroni to re-create permanent slot {slot} past {walAfterMove}",
            async () => await cluster.ConfirmedFlushAsync(slot) is { } p && p > walAfterMove, PatroniReaction,
            async () => $"slot {slot} at {(await cluster.ConfirmedFlushAsync(slot))?.ToString() ?? "missing"}");
        var recreatedAt = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        using var endpoint = cluster.NewEndpoint();

        // When
        var report = await new SlotReconciler(endpoint).EnsureSlotAsync(slot, new ConfirmedPosition(lastConfirmed));

        // Then the slot "survived", but the changes from the consumer's position to Patroni's re-creation point are gone
        Assert.Equal(SlotOutcome.FoundAhead, report.Outcome);
        Assert.Equal(SlotProtection.Permanent, report.Protection);
        Assert.False(report.CreatedByReconciler);
        Assert.False(report.PermanentSlotWasMissing);
        Assert.False(report.FailoverSlot);
        Assert.Contains("\"protection\":\"Permanent\"", report.ToJson(), StringComparison.Ordinal);
        Assert.Contains("\"permanent_slot_was_missing\":false", report.ToJson(), StringComparison.Ordinal);
        Assert.True(report.IsAlarm);
        WalRangeAssert.Exact(lastConfirmed, recreatedAt, report.Gap);
        Assert.Equal(recreatedAt, report.SlotPosition);
    }

    [Fact]
    public async Task EnsureSlot_WhenPatroniDroppedAnUnprotectedSlotAfterAPermanentSlotsChange_ReportsRecreatedWithGapAndUnprotected()
    {
        // Given an unprotected slot the consumer read up to its confirmed_flush_lsn
        var slot = NewSlot("unprot_cfg");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        var created = await reconciler.EnsureSlotAsync(slot, null);
        var lastConfirmed = (await cluster.ConfirmedFlushAsync(slot))!.Value;

        // When the permanent slots change (another slot) and WAL moves, with no failover at all
        await DeclarePermanentAsync(cluster.UniqueSlot("other"));
        await WaitUntilGoneAsync(slot, "PATCH /config permanent_slots");
        await cluster.MoveWalAsync();
        var report = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(lastConfirmed));

        // Then
        var end = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        Assert.Equal(SlotProtection.Unprotected, created.Protection);
        Assert.Equal(SlotOutcome.RecreatedWithGap, report.Outcome);
        Assert.Equal(SlotProtection.Unprotected, report.Protection);
        Assert.Equal(new WalGap(lastConfirmed, end), report.Gap);
        Assert.Contains("unprotected", report.ToLogLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureSlot_WhenPatroniDroppedAnUnprotectedSlotAfterRestartingPostgres_ReportsRecreatedWithGapAndUnprotected()
    {
        // Given an unprotected slot the consumer read up to its confirmed_flush_lsn
        var slot = NewSlot("unprot_rst");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        await reconciler.EnsureSlotAsync(slot, null);
        var lastConfirmed = (await cluster.ConfirmedFlushAsync(slot))!.Value;

        // When Patroni restarts PostgreSQL (POST /restart) and WAL moves
        await cluster.RestartPostgresAsync();
        await WaitUntilGoneAsync(slot, "POST /restart");
        await cluster.MoveWalAsync();
        var report = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(lastConfirmed));

        // Then
        var end = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        Assert.Equal(SlotOutcome.RecreatedWithGap, report.Outcome);
        Assert.Equal(SlotProtection.Unprotected, report.Protection);
        WalRangeAssert.Exact(lastConfirmed, end, report.Gap);
    }

    [Fact]
    public async Task EnsureSlot_WhenSlotIsMatchedByIgnoreSlots_ItSurvivesAConfigChangeAndARestart()
    {
        // Given a slot matched by ignore_slots, and an unprotected control slot that shows when Patroni reloaded its slots
        var ignored = NewSlot("ignored");
        var control = NewSlot("control");
        _ignoreSlotsSet = true;
        await cluster.PatchConfigAsync($$"""{"ignore_slots": [{"name": "{{ignored}}"}]}""");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        await cluster.WaitUntilAsync("GET /config to show the ignore_slots rule",
            async () => (await endpoint.GetSlotConfigAsync()).IgnoreSlots.Any(r => r.Name == ignored), PatroniReaction);
        var created = await reconciler.EnsureSlotAsync(ignored, null);
        var lastConfirmed = (await cluster.ConfirmedFlushAsync(ignored))!.Value;

        // When the permanent slots change, then Patroni restarts PostgreSQL
        await reconciler.EnsureSlotAsync(control, null);
        await DeclarePermanentAsync(cluster.UniqueSlot("other"));
        await WaitUntilGoneAsync(control, "PATCH /config permanent_slots");
        await reconciler.EnsureSlotAsync(control, null);
        await cluster.RestartPostgresAsync();
        await WaitUntilGoneAsync(control, "POST /restart");
        var report = await reconciler.EnsureSlotAsync(ignored, new ConfirmedPosition(lastConfirmed));

        // Then the ignored slot is still where the consumer left it
        Assert.Equal(SlotProtection.Ignored, created.Protection);
        Assert.True(created.CreatedByReconciler);
        Assert.False(created.PermanentSlotWasMissing);
        Assert.False(created.FailoverSlot);
        Assert.False(report.CreatedByReconciler);
        Assert.Contains("\"protection\":\"Ignored\"", report.ToJson(), StringComparison.Ordinal);
        Assert.Equal(SlotOutcome.Found, report.Outcome);
        Assert.Equal(SlotProtection.Ignored, report.Protection);
        Assert.False(report.IsAlarm);
        Assert.Equal(lastConfirmed, report.SlotPosition);
        Assert.DoesNotContain("unprotected", report.ToLogLine(), StringComparison.Ordinal);
    }
}
