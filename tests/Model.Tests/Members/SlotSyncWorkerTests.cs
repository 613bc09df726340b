using PatroniModel.Model.Members;
using PatroniModel.Model.Postgres;
using PatroniModel.Scenarios.Wal;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Members;

/// <summary>PostgreSQL 17's slotsync worker as plain decisions, without actors.</summary>
public sealed class SlotSyncWorkerTests
{
    private static readonly Lsn Start = new(0x3000060);

    private static List<WalRecord> Wal(params WalKind[] kinds)
    {
        var wal = new List<WalRecord>();
        var at = Start;
        foreach (var kind in kinds)
        {
            wal.Add(new WalRecord(at, at.Plus(0x38), 1, kind, 0));
            at = at.Plus(0x38);
        }
        return wal;
    }

    [Fact]
    public void Decide_WhenTheStandbyLacksTheWal_SkipsTheSlotThisRound()
    {
        // Given a primary slot confirmed past the standby's end of WAL
        var wal = Wal(WalKind.RunningXacts);

        // When the worker looks at it
        var action = SlotSyncWorker.Decide(wal[^1].End.Plus(1), wal[^1].End, null, wal);

        // Then it waits
        Assert.Equal(SlotSyncAction.Skip, action);
    }

    [Fact]
    public void Decide_ForANewSlot_CreatesItOnlyWhenTheCatalogXminCoversTheStandby()
    {
        // Given a slot created (RUNNING_XACTS) and then a row written, and the same after a checkpoint
        var withRow = Wal(WalKind.RunningXacts, WalKind.Row);
        var afterCheckpoint = Wal(WalKind.RunningXacts, WalKind.Row, WalKind.Checkpoint);

        // When the worker meets the slot at its consistent point, and at the checkpoint's end
        var refused = SlotSyncWorker.Decide(withRow[0].End, withRow[^1].End, null, withRow);
        var created = SlotSyncWorker.Decide(afterCheckpoint[^1].End, afterCheckpoint[^1].End, null, afterCheckpoint);

        // Then 17.12 refuses the first ("could lead to data loss") and syncs the second
        Assert.Equal(SlotSyncAction.Skip, refused);
        Assert.Equal(SlotSyncAction.Create, created);
    }

    [Fact]
    public void Decide_NeverOverwritesASameNameSlotThatIsNotSynced_ButAdvancesASyncedOne()
    {
        // Given the ex-primary's own failover slot and a synced one
        var wal = Wal(WalKind.RunningXacts);
        var own = new LogicalSlot("s1", Start, isCopy: false, readyAt: 0) { Failover = true };
        var synced = new LogicalSlot("s1", Start, isCopy: true, readyAt: 0) { Failover = true };

        // When the primary's slot moved on
        var ownAction = SlotSyncWorker.Decide(wal[^1].End, wal[^1].End, own, wal);
        var syncedAction = SlotSyncWorker.Decide(wal[^1].End, wal[^1].End, synced, wal);

        // Then only the synced slot follows it
        Assert.Equal(SlotSyncAction.Skip, ownAction);
        Assert.Equal(SlotSyncAction.Advance, syncedAction);
    }

    [Fact]
    public void GoneOnPrimary_NamesOnlySyncedSlotsThePrimaryNoLongerHas()
    {
        // Given a synced s1 and s2 and an own s3 on the standby, and only s2 on the primary
        var local = new[]
        {
            new LogicalSlot("s1", Start, isCopy: true, readyAt: 0) { Failover = true },
            new LogicalSlot("s2", Start, isCopy: true, readyAt: 0) { Failover = true },
            new LogicalSlot("s3", Start, isCopy: false, readyAt: 0) { Failover = true },
        };

        // When the worker compares
        var gone = SlotSyncWorker.GoneOnPrimary(local, new HashSet<string> { "s2" });

        // Then it drops s1 only
        Assert.Equal(["s1"], gone.Select(s => s.Name));
    }
}
