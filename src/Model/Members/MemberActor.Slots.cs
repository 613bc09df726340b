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
        foreach (var name in SlotKeeping.MissingPermanent(_config, _pg.Slots).ToList())
        {
            var at = CreateLocalSlot(name);
            Record(ModelEventKinds.SlotCreated, $"{name} at {at} by Patroni (permanent slot missing on the leader)");
            // slots.py _ensure_logical_slots_primary: every creation schedules a reload of the slot state.
            ScheduleSlotReload("permanent slot created");
        }
    }

    /// <summary>
    /// A change of the permanent slots, as Patroni's next slot pass sees it (slots.py <c>sync_replication_slots</c>): a slot
    /// no longer permanent was in its slot cache and is dropped now (unless ignored); a newly declared one was not in the
    /// cache, so Patroni creates it WHERE NOT EXISTS (an existing slot is adopted at its own position) and schedules a
    /// reload: the other unknown slots go at the pass after.
    /// </summary>
    private void ReloadIfPermanentSlotsChanged()
    {
        var now = _config.PermanentSlots;
        if (_knownPermanent is { } known && !known.SequenceEqual(now))
        {
            foreach (var name in known.Except(now, StringComparer.Ordinal))
            {
                if (_pg.Slots.TryGetValue(name, out var slot) && SlotKeeping.OnReload(slot, _config, _pg.IsPrimary) == SlotFate.Drop)
                {
                    _pg.Slots.Remove(name);
                    Record(ModelEventKinds.SlotDropped, $"{name} (no longer a permanent slot)");
                }
            }
            if (now.Except(known, StringComparer.Ordinal).Any())
            {
                ScheduleSlotReload("permanent slots changed");
            }
            if (_pg.IsPrimary && _role.IsLeader)
            {
                EnsurePermanentSlots();
            }
        }
        _knownPermanent = now;
    }

    /// <summary>
    /// Patroni's <c>_schedule_load_slots</c>: the slot state is reloaded (and unknown slots dropped) at the next slot pass,
    /// the end of the next HA cycle that reaches the DCS, not at the instant that scheduled it.
    /// </summary>
    private void ScheduleSlotReload(string reason) => _slotReload ??= reason;

    /// <summary>
    /// The start of this cycle's slot pass: a reload scheduled earlier happens now. So does one this pass schedules itself
    /// (slots.py <c>process_permanent_slots</c>, run by the cycle's cluster query): with permanent logical slots configured,
    /// a permanent slot missing on this member means a slot Patroni's cache knew is gone.
    /// </summary>
    private void RunSlotPass()
    {
        // (only the permanent slots of the previous pass are in the cache: a slot declared since is not missed yet)
        if (!_config.PermanentSlots.IsDefaultOrEmpty && _knownPermanent is { } known
            && known.Any(n => _config.PermanentSlots.Contains(n) && !_pg.Slots.ContainsKey(n)))
        {
            ScheduleSlotReload("a permanent slot is missing");
        }
        if (_slotReload is { } reason)
        {
            _slotReload = null;
            ReloadSlots($"reload ({reason})");
        }
    }

    /// <summary>
    /// PostgreSQL running as a standby (started, or restarted by a demotion): its permanent slots are copies Patroni
    /// advances from now on; the unknown ones are dropped by the reload the start schedules (postgresql/__init__.py: a
    /// start that reaches 'running' calls <c>slots_handler.schedule()</c>).
    /// </summary>
    private void BecomeStandbySlots(string reason)
    {
        foreach (var slot in _pg.Slots.Values)
        {
            if (SlotKeeping.OnReload(slot, _config, isPrimary: false) == SlotFate.KeepAsCopy)
            {
                slot.IsCopy = true;
                slot.ReadyAt = Now;
            }
        }
        ScheduleSlotReload(reason);
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
                case SlotFate.Keep when slot.IsCopy && slot.Failover && !_pg.IsPrimary
                    && !_config.PermanentSlots.Contains(slot.Name) && !_config.IgnoreSlots.Contains(slot.Name):
                    // Patroni 4.0.7 tries to drop the unknown synced slot; PostgreSQL 17 refuses during recovery, and the
                    // error schedules another reload (slots.py sync_replication_slots: except -> _schedule_load_slots).
                    ScheduleSlotReload($"drop of the synced slot {slot.Name} refused during recovery");
                    break;
                case SlotFate.Drop:
                    _pg.Slots.Remove(slot.Name);
                    Record(ModelEventKinds.SlotDropped, $"{slot.Name} (unknown slot on {reason})");
                    break;
            }
        }
    }
}
