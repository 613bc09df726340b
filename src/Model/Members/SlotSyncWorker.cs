using PatroniModel.Model.Postgres;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Members;

/// <summary>What the slotsync worker does with one failover slot of the primary in one round.</summary>
internal enum SlotSyncAction
{
    /// <summary>Nothing this round: the standby lacks the WAL, the catalog_xmin does not cover it, or a same-name slot is not synced.</summary>
    Skip,

    /// <summary>Create the synced slot at the primary's confirmed_flush_lsn.</summary>
    Create,

    /// <summary>Advance the existing synced slot to the primary's confirmed_flush_lsn.</summary>
    Advance,
}

/// <summary>
/// PostgreSQL 17's slotsync worker on a standby (<c>sync_replication_slots</c>; PostgreSQL docs, "Replication Slot
/// Synchronization"): pure decisions over the primary's failover slots and the standby's WAL and slots.
/// </summary>
internal static class SlotSyncWorker
{
    /// <summary>
    /// One failover slot of the primary at <paramref name="confirmed"/>: synced only once the standby has received WAL up
    /// to it; a new synced slot also needs <see cref="CatalogXminCovers"/>; a same-name slot that is not synced (the
    /// ex-primary's own) is never overwritten.
    /// </summary>
    public static SlotSyncAction Decide(Lsn confirmed, Lsn standbyEnd, LogicalSlot? local, IReadOnlyList<WalRecord> standbyWal)
    {
        if (confirmed > standbyEnd)
        {
            return SlotSyncAction.Skip;
        }
        if (local is null)
        {
            // "could not synchronize replication slot ...: Synchronization could lead to data loss" (measured on 17.12).
            return CatalogXminCovers(standbyWal, confirmed) ? SlotSyncAction.Create : SlotSyncAction.Skip;
        }
        return local.IsCopy && local.Failover ? SlotSyncAction.Advance : SlotSyncAction.Skip;
    }

    /// <summary>The standby's synced slots whose slot is gone on the primary: the worker drops them.</summary>
    public static IEnumerable<LogicalSlot> GoneOnPrimary(IEnumerable<LogicalSlot> local, IReadOnlySet<string> remote) =>
        local.Where(s => s.IsCopy && s.Failover && !remote.Contains(s.Name));

    /// <summary>
    /// Whether the slotsync worker may create the synced slot: the primary's slot's catalog_xmin is the horizon of the last
    /// standby snapshot (RUNNING_XACTS, also logged by a checkpoint) its confirmed position passed, and this standby's
    /// hot_standby_feedback xmin is the horizon at its end of WAL; a transaction (a row) between the two makes the remote
    /// catalog_xmin older than the standby's, and PostgreSQL 17 refuses to sync. Not modelled: the bgwriter's snapshot every 15 s.
    /// </summary>
    public static bool CatalogXminCovers(IReadOnlyList<WalRecord> wal, Lsn confirmed)
    {
        var snapshot = -1;
        for (var i = wal.Count - 1; i >= 0; i--)
        {
            if (wal[i].End <= confirmed && wal[i].Kind is WalKind.RunningXacts or WalKind.Checkpoint)
            {
                snapshot = i;
                break;
            }
        }
        for (var i = snapshot + 1; i < wal.Count; i++)
        {
            if (wal[i].Kind == WalKind.Row)
            {
                return false;
            }
        }
        return snapshot >= 0;
    }
}
