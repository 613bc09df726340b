using System.Collections.Immutable;
using PatroniModel.Model.Members;
using PatroniModel.Model.Postgres;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Members;

/// <summary>Patroni's slot keeping (slots.py) as plain functions, without actors.</summary>
public sealed class SlotKeepingTests
{
    private static readonly Lsn At = new(0x3000098);

    [Fact]
    public void OnReload_DropsAnUnknownSlot_AndKeepsPermanentAndIgnoredOnes()
    {
        // Given a configuration with s1 permanent and s2 ignored
        var config = ClusterConfig.Default with { PermanentSlots = ["s1"], IgnoreSlots = ["s2"] };

        // When Patroni reloads its slot state on the primary
        var fates = new[] { "s1", "s2", "s3" }.Select(n => SlotKeeping.OnReload(new LogicalSlot(n, At, isCopy: false, readyAt: 0), config, isPrimary: true));

        // Then only the unknown slot is dropped
        Assert.Equal([SlotFate.Keep, SlotFate.Keep, SlotFate.Drop], fates);
    }

    [Fact]
    public void OnReload_OnADemotedMember_TurnsItsOwnPermanentSlotIntoACopy()
    {
        // Given a permanent slot that was the member's own while it led
        var config = ClusterConfig.Default with { PermanentSlots = ["s1"] };
        var slot = new LogicalSlot("s1", At, isCopy: false, readyAt: 0);

        // When the member reloads as a replica
        var fate = SlotKeeping.OnReload(slot, config, isPrimary: false);

        // Then the slot is kept as a copy Patroni advances
        Assert.Equal(SlotFate.KeepAsCopy, fate);
    }

    [Fact]
    public void OnReload_KeepsAStandbysSyncedFailoverSlot_ButNotAnUnignoredOwnOne()
    {
        // Given a synced failover slot on a standby and the ex-primary's own failover slot, neither permanent nor ignored
        var synced = new LogicalSlot("s1", At, isCopy: true, readyAt: 0) { Failover = true };
        var own = new LogicalSlot("s1", At, isCopy: false, readyAt: 0) { Failover = true };

        // When Patroni 4.0.7 reloads
        var syncedFate = SlotKeeping.OnReload(synced, ClusterConfig.Default, isPrimary: false);
        var ownFate = SlotKeeping.OnReload(own, ClusterConfig.Default, isPrimary: false);

        // Then PostgreSQL refuses to drop the synced one, and the own one is dropped as unknown
        Assert.Equal(SlotFate.Keep, syncedFate);
        Assert.Equal(SlotFate.Drop, ownFate);
    }

    [Fact]
    public void MissingPermanent_AfterDeclaringExistingSlots_NamesOnlyTheAbsentOne()
    {
        // Given a leader with its own s1 and a copy s2
        var slots = new Dictionary<string, LogicalSlot>
        {
            ["s1"] = new("s1", At, isCopy: false, readyAt: 0),
            ["s2"] = new("s2", At, isCopy: true, readyAt: 0),
        };

        // When a PATCH declares s1, s2 and s3 permanent
        var missing = SlotKeeping.MissingPermanent(ClusterConfig.Default with { PermanentSlots = ["s1", "s2", "s3"] }, slots);

        // Then only s3 is created: the existing s1 is adopted at its own position (Patroni creates WHERE NOT EXISTS)
        Assert.Equal(["s3"], missing);
        Assert.Equal(At, slots["s1"].ConfirmedFlush);
    }

    [Fact]
    public void PhysicalSlots_CreatesSlotsForJoinedMembers_AndDropsOnlySlotsOfMembersSeenAndGone()
    {
        // Given a leader with slots for pg2 and pg3, having seen only pg2's member key so far
        ImmutableSortedSet<string> physical = ["pg2", "pg3"];
        ImmutableSortedSet<string> seen = ["pg2"];

        // When pg2's key expired and pg4 joined
        var (slots, seenNow, joined, dropFailed) = SlotKeeping.PhysicalSlots(physical, seen, ["pg4"]);

        // Then pg2 loses its slot, pg3 (never seen) keeps it, pg4 gets one, and pg4's join triggers a reload
        Assert.Equal(["pg3", "pg4"], slots);
        Assert.Equal(["pg4"], seenNow);
        Assert.Equal(["pg4"], joined);
        Assert.Empty(dropFailed);
    }

    [Fact]
    public void PhysicalSlots_WhenAGoneMembersWalSenderIsStillActive_KeepsItsSlotAndReportsTheFailedDrop()
    {
        // Given a leader with slots for pg2 and pg3, both seen
        ImmutableSortedSet<string> physical = ["pg2", "pg3"];
        ImmutableSortedSet<string> seen = ["pg2", "pg3"];

        // When both keys expired, and pg2 (frozen) still has an active walsender while pg3 (killed) has none
        var (slots, seenNow, joined, dropFailed) = SlotKeeping.PhysicalSlots(physical, seen, [], m => m == "pg2");

        // Then pg3's slot is dropped; pg2's drop fails, so it stays (and is tried again next loop) and a reload follows
        Assert.Equal(["pg2"], slots);
        Assert.Equal(["pg2"], seenNow);
        Assert.Empty(joined);
        Assert.Equal(["pg2"], dropFailed);

        // And once the walsender ended, the next loop drops it without a reload
        var (after, _, _, failedAgain) = SlotKeeping.PhysicalSlots(slots, seenNow, [], _ => false);
        Assert.Empty(after);
        Assert.Empty(failedAgain);
    }
}
