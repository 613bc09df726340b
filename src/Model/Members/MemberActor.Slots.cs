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
            Sender.Tell(SlotPositions(withFailoverSlots: true) with { Bootstrap = m.Bootstrap });
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
        foreach (var synced in SlotSyncWorker.GoneOnPrimary(_pg.Slots.Values, remote).ToList())
        {
            _pg.Slots.Remove(synced.Name);
            Record(ModelEventKinds.SlotDropped, $"{synced.Name} (synced slot: gone on {m.Leader}, dropped by the slotsync worker)");
        }
        foreach (var (slot, confirmed) in m.FailoverSlots)
        {
            var local = _pg.Slots.GetValueOrDefault(slot);
            switch (SlotSyncWorker.Decide(confirmed, _pg.EndLsn, local, _pg.Wal))
            {
                case SlotSyncAction.Create:
                    _pg.Slots[slot] = new LogicalSlot(slot, confirmed, isCopy: true, readyAt: Now) { Failover = true, ReadyAnnounced = true };
                    Record(ModelEventKinds.SlotCopied, $"{slot} at {confirmed} from {m.Leader} (synced by the slotsync worker)");
                    break;
                case SlotSyncAction.Advance:
                    local!.Advance(confirmed);
                    break;
            }
        }
    }

    private void EnsurePermanentSlots()
    {
        if (!_pg.IsPrimary)
        {
            return;
        }
        foreach (var name in SlotKeeping.MissingPermanent(_config, _pg.Slots))
        {
            var at = CreateLocalSlot(name);
            Record(ModelEventKinds.SlotCreated, $"{name} at {at} by Patroni (permanent slot missing on the leader)");
        }
    }

    private void ReloadIfPermanentSlotsChanged()
    {
        var now = _config.PermanentSlots;
        if (_knownPermanent is { } known && !known.SequenceEqual(now))
        {
            // A slot newly declared permanent that exists already is adopted at its own position: Patroni creates a
            // permanent slot only WHERE NOT EXISTS (slots.py _ensure_logical_slots_primary), then reloads and keeps it.
            ReloadSlots("reload (permanent slots changed)");
            if (_pg.IsPrimary && _role.IsLeader)
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
            switch (SlotKeeping.OnReload(slot, _config, _pg.IsPrimary))
            {
                case SlotFate.KeepAsCopy:
                    slot.IsCopy = true;
                    slot.ReadyAt = Now;
                    break;
                case SlotFate.Drop:
                    _pg.Slots.Remove(slot.Name);
                    Record(ModelEventKinds.SlotDropped, $"{slot.Name} (unknown slot on {reason})");
                    break;
            }
        }
    }
}
