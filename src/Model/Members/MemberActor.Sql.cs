using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.Time;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Members;

/// <summary>SQL on the primary: the client's rows, the steps' WAL, logical decoding and slot creation and removal.</summary>
public sealed partial class MemberActor
{
    private void OnInsertRow(InsertRow m)
    {
        var record = _pg.Write(WalKind.Row, WalSizes.Row, m.RowId);
        Ship(record);
        if (NeedsSyncAck)
        {
            _pending.Add(new PendingCommit(m.RowId, record.End, Sender));
            Sender.Tell(new RowPending(m.RowId, _name));
            TryAckPending();
            return;
        }
        Sender.Tell(new RowCommitted(m.RowId, record.End, _pg.Timeline, _name));
    }

    private void OnAppendWal(AppendWal m)
    {
        var record = _pg.Write(m.Kind, m.Bytes);
        Ship(record);
        Sender.Tell(new MemberAnswer(true, $"{m.Kind} {record.Start}..{record.End} on {_name}", record.End));
    }

    private void OnConsume(ConsumeSlot m)
    {
        if (!_pg.Slots.TryGetValue(m.Slot, out var slot) || slot.IsCopy)
        {
            Sender.Tell(new MemberAnswer(false, $"replication slot \"{m.Slot}\" does not exist on {_name}"));
            return;
        }
        if (slot.WalMissing)
        {
            Sender.Tell(new MemberAnswer(false, $"requested WAL segment for slot \"{m.Slot}\" has already been removed on {_name}", Error: true));
            return;
        }
        if (StandbyHoldingBack(slot) is { } standby)
        {
            Sender.Tell(new MemberAnswer(
                false, $"{Scenarios.Faults.Consume.StandbyWaitRefusal}: {standby.Name} has flushed {standby.Flushed}, the end of WAL is {_pg.EndLsn}", WaitingForStandbys: true));
            return;
        }
        slot.Advance(_pg.EndLsn);
        Sender.Tell(new SlotConsumed(m.Slot, slot.ConfirmedFlush, _pg.Timeline, _name));
    }

    private void OnCreateSlot(CreateLogicalSlot m)
    {
        if (_pg.Slots.ContainsKey(m.Slot))
        {
            Sender.Tell(new MemberAnswer(false, $"replication slot \"{m.Slot}\" already exists"));
            return;
        }
        var at = CreateLocalSlot(m.Slot, failover: _config.FailoverSlots);
        Record(ModelEventKinds.SlotCreated, $"{m.Slot} at {at} by {m.By}{(_config.FailoverSlots ? " (failover slot)" : "")}");
        Sender.Tell(new MemberAnswer(true, $"{m.Slot} at {at} on {_name}", at));
    }

    /// <summary>
    /// pg_create_logical_replication_slot on this primary: logs a RUNNING_XACTS record (shipped like any WAL) and puts the
    /// slot's restart_lsn at that record and its consistent point (confirmed_flush_lsn) after it. Returns the consistent point.
    /// </summary>
    private Lsn CreateLocalSlot(string name, bool failover = false)
    {
        var record = _pg.Write(WalKind.RunningXacts, WalSizes.RunningXacts);
        Ship(record);
        _pg.Slots[name] = new LogicalSlot(name, record.End, isCopy: false, readyAt: 0) { RestartLsn = record.Start, Failover = failover };
        return record.End;
    }

    private void OnDropSlot(DropLogicalSlot m)
    {
        if (!_pg.Slots.Remove(m.Slot))
        {
            Sender.Tell(new MemberAnswer(false, $"replication slot \"{m.Slot}\" does not exist"));
            return;
        }
        Record(ModelEventKinds.SlotDropped, $"{m.Slot} ({m.Why})");
        Sender.Tell(new MemberAnswer(true, $"{m.Slot} dropped on {_name}"));
    }

    /// <summary>
    /// On PostgreSQL 17 with synchronized_standby_slots, decoding a failover slot through the SQL functions first waits until
    /// every listed standby (every other member's physical slot) has flushed the end of WAL: the first standby that has not
    /// (one that never streamed from this primary counts as nothing flushed), or null when decoding may go ahead.
    /// </summary>
    private (string Name, string Flushed)? StandbyHoldingBack(LogicalSlot slot)
    {
        if (!_config.SynchronizedStandbySlots || !slot.Failover || _world.Options.PlantedBugIgnoreSynchronizedStandbySlots)
        {
            return null;
        }
        foreach (var standby in _config.MemberNames)
        {
            if (standby == _name)
            {
                continue;
            }
            if (!_standbyReplay.TryGetValue(standby, out var flushed))
            {
                return (standby, "nothing from this primary");
            }
            if (flushed < _pg.EndLsn)
            {
                return (standby, flushed.ToString());
            }
        }
        return null;
    }
}
