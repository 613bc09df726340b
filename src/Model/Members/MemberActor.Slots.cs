using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.Time;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Members;

/// <summary>Slot copies on replicas (Patroni's permanent slots, PostgreSQL 17's slotsync worker) and Patroni's slot keeping on reload (patroni/postgresql/slots.py).</summary>
public sealed partial class MemberActor
{
    private void OnSlotSyncRequest(SlotSyncRequest m)
    {
        if (_downstream.ContainsKey(m.From))
        {
            Sender.Tell(SlotPositions(withFailoverSlots: true));
        }
    }

    private SlotSyncInfo SlotPositions(bool withFailoverSlots)
    {
        var slots = ImmutableArray.CreateBuilder<(string, Lsn)>();
        var failover = ImmutableArray.CreateBuilder<(string, Lsn)>();
        foreach (var slot in _pg.Slots.Values)
        {
            if (!slot.IsCopy && _config.PermanentSlots.Contains(slot.Name))
            {
                slots.Add((slot.Name, slot.ConfirmedFlush));
            }
            else if (!slot.IsCopy && slot.Failover && withFailoverSlots)
            {
                failover.Add((slot.Name, slot.ConfirmedFlush));
            }
        }
        return new SlotSyncInfo(_name, slots.ToImmutable(), withFailoverSlots ? failover.ToImmutable() : default);
    }

    /// <summary>
    /// PostgreSQL 17's slotsync worker on this standby: copies each failover slot of the primary as a synced slot at the
    /// primary's confirmed_flush_lsn, but only once this standby has received WAL up to it (else it skips the slot this
    /// round); drops synced slots whose slot is gone on the primary. A slot of the same name that is not synced (the
    /// ex-primary's own) is never overwritten. A graceful demotion's last word (<see cref="SlotSyncInfo.FailoverSlots"/>
    /// default) syncs nothing: the worker runs on its own schedule, not at the primary's shutdown.
    /// </summary>
    private void SyncFailoverSlots(SlotSyncInfo m)
    {
        if (!_config.FailoverSlots || m.FailoverSlots.IsDefault)
        {
            return;
        }
        var remote = m.FailoverSlots.Select(s => s.Slot).ToHashSet(StringComparer.Ordinal);
        foreach (var synced in _pg.Slots.Values.Where(s => s.IsCopy && s.Failover && !remote.Contains(s.Name)).ToList())
        {
            _pg.Slots.Remove(synced.Name);
            Record(ModelEventKinds.SlotDropped, $"{synced.Name} (synced slot: gone on {m.Leader}, dropped by the slotsync worker)");
        }
        foreach (var (slot, confirmed) in m.FailoverSlots)
        {
            if (confirmed > _pg.EndLsn)
            {
                continue;
            }
            if (!_pg.Slots.TryGetValue(slot, out var local))
            {
                if (!CatalogXminCovers(confirmed))
                {
                    // "could not synchronize replication slot ...: Synchronization could lead to data loss" (measured on 17.12).
                    continue;
                }
                _pg.Slots[slot] = new LogicalSlot(slot, confirmed, isCopy: true, readyAt: Now) { Failover = true, ReadyAnnounced = true };
                Record(ModelEventKinds.SlotCopied, $"{slot} at {confirmed} from {m.Leader} (synced by the slotsync worker)");
            }
            else if (local.IsCopy && local.Failover)
            {
                local.Advance(confirmed);
            }
        }
    }

    /// <summary>
    /// Whether the slotsync worker may create the synced slot: the primary's slot's catalog_xmin is the horizon of the last
    /// standby snapshot (RUNNING_XACTS, also logged by a checkpoint) its confirmed position passed, and this standby's
    /// hot_standby_feedback xmin is the horizon at its end of WAL; a transaction (a row) between the two makes the remote
    /// catalog_xmin older than the standby's, and PostgreSQL 17 refuses to sync. Not modelled: the bgwriter's snapshot every 15 s.
    /// </summary>
    private bool CatalogXminCovers(Lsn confirmed)
    {
        var wal = _pg.Wal;
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

    private void EnsurePermanentSlots()
    {
        if (!_pg.IsPrimary)
        {
            return;
        }
        foreach (var name in _config.PermanentSlots)
        {
            if (!_pg.Slots.ContainsKey(name))
            {
                var at = CreateLocalSlot(name);
                Record(ModelEventKinds.SlotCreated, $"{name} at {at} by Patroni (permanent slot missing on the leader)");
            }
        }
    }

    private void ReloadIfPermanentSlotsChanged()
    {
        var now = _config.PermanentSlots;
        if (_knownPermanent is { } known && !known.SequenceEqual(now))
        {
            if (_pg.IsPrimary)
            {
                foreach (var name in now)
                {
                    if (!known.Contains(name) && _pg.Slots.TryGetValue(name, out var existing) && !existing.IsCopy)
                    {
                        _pg.Slots.Remove(name);
                        Record(ModelEventKinds.SlotDropped, $"{name} (declared permanent: Patroni re-creates it at the current LSN)");
                    }
                }
            }
            ReloadSlots("reload (permanent slots changed)");
            if (_pg.IsPrimary && _isLeader)
            {
                EnsurePermanentSlots();
            }
        }
        _knownPermanent = now;
    }

    /// <summary>Patroni reloading its slot state: it drops inactive slots that are neither permanent nor matched by ignore_slots.</summary>
    private void ReloadSlots(string reason)
    {
        if (_pg.Slots.Count == 0)
        {
            return;
        }
        foreach (var slot in _pg.Slots.Values.ToList())
        {
            if (_config.PermanentSlots.Contains(slot.Name))
            {
                if (!_pg.IsPrimary && !slot.IsCopy)
                {
                    slot.IsCopy = true;
                    slot.ReadyAt = Now;
                }
                continue;
            }
            if (slot.IsCopy && slot.Failover)
            {
                // A standby's synced slot: Patroni 4.0.7 tries to drop it as unknown, PostgreSQL 17 refuses during recovery.
                continue;
            }
            if (!slot.IsCopy && _config.IgnoreSlots.Contains(slot.Name))
            {
                continue;
            }
            _pg.Slots.Remove(slot.Name);
            Record(ModelEventKinds.SlotDropped, $"{slot.Name} (unknown slot on {reason})");
        }
    }
}
