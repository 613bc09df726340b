using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.Time;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Members;

/// <summary>Streaming replication: the replica asks its leader for WAL (and is rewound when it diverged); the primary ships records, tracks replay and picks the synchronous standby.</summary>
public sealed partial class MemberActor
{
    private void CheckStreaming()
    {
        if (_stream.Streaming && (_stream.Upstream is null
                           || Network.Epoch(_name) != _stream.MyEpoch
                           || Network.Epoch(_stream.Upstream) != _stream.UpstreamEpoch
                           || !Network.CanTalk(_name, _stream.Upstream)))
        {
            _stream = _stream with { Streaming = false };
        }
    }

    private void Follow(string leader)
    {
        CheckStreaming();
        if (_stream.Upstream == leader && _stream.Streaming)
        {
            return;
        }
        _stream = _stream with { Streaming = false };
        if (!Network.CanTalk(_name, leader))
        {
            return;
        }
        _stream = _stream with { Upstream = leader, Refusals = 0 };
        _peers[leader].Tell(new StreamRequest(_name, _pg.Timeline, _pg.History, _pg.EndLsn));
    }

    private void OnStreamAccepted(StreamAccepted m)
    {
        if (m.Leader != _stream.Upstream)
        {
            return;
        }
        foreach (var record in m.Records)
        {
            if (record.Start == _pg.EndLsn)
            {
                _pg.Apply(record);
            }
        }
        _pg.AdoptLineage(m.Timeline, m.History);
        _stream = _stream with { Streaming = true, Refusals = 0, MyEpoch = Network.Epoch(_name), UpstreamEpoch = Network.Epoch(m.Leader) };
        _peers[m.Leader].Tell(new Replayed(_name, _pg.EndLsn));
    }

    private void OnStreamRefused(StreamRefused m)
    {
        if (m.Leader != _stream.Upstream)
        {
            return;
        }
        if (m.RewindTo is not { } point)
        {
            _stream = _stream with { Upstream = null };
            return;
        }
        _stream = _stream with { Refusals = _stream.Refusals + 1 };
        if (_stream.Refusals > 2)
        {
            _stream = _stream with { Upstream = null };
            return;
        }
        var before = _pg.EndLsn;
        var oldTimeline = _pg.Timeline;
        var discarded = _pg.TruncateAfter(point);
        _pg.AdoptLineage(m.Timeline, m.History);
        foreach (var slot in _pg.Slots.Values.ToList())
        {
            if (slot.IsCopy || slot.ConfirmedFlush > point)
            {
                _pg.Slots.Remove(slot.Name);
                Record(ModelEventKinds.SlotDropped, $"{slot.Name} (discarded by pg_rewind)");
            }
        }
        Record(ModelEventKinds.Rewound,
            $"to {point} (was tl{oldTimeline} at {before}): discarded {discarded.Count} rows; now follows {m.Leader} on tl{m.Timeline}");
        if (discarded.Count > 0)
        {
            _client.Tell(new RowsDiscarded(_name, discarded));
        }
        _peers[m.Leader].Tell(new StreamRequest(_name, _pg.Timeline, _pg.History, _pg.EndLsn));
    }

    private void OnShipment(WalShipment m)
    {
        if (m.From != _stream.Upstream || !_stream.Streaming)
        {
            return;
        }
        if (Network.Epoch(m.From) != m.SenderEpoch)
        {
            // The sender died, froze or was cut off before this record left it: the replica never gets it.
            _stream = _stream with { Streaming = false };
            return;
        }
        if (m.Record.Start != _pg.EndLsn)
        {
            if (m.Record.End > _pg.EndLsn)
            {
                _stream = _stream with { Streaming = false };
            }
            return;
        }
        _pg.Apply(m.Record);
        if (m.WantsAck)
        {
            _peers[m.From].Tell(new Replayed(_name, _pg.EndLsn));
        }
    }

    private void OnSlotSyncInfo(SlotSyncInfo m)
    {
        if (m.Leader != _stream.Upstream)
        {
            return;
        }
        SyncFailoverSlots(m);
        foreach (var (slot, confirmed) in m.Slots)
        {
            if (!_config.PermanentSlots.Contains(slot))
            {
                continue;
            }
            var target = Lsn.Min(confirmed, _pg.EndLsn);
            if (!_pg.Slots.TryGetValue(slot, out var copy))
            {
                if (m.Bootstrap)
                {
                    // The real bring-up runs Patroni's loops for seconds before the first step: the copy is made and ready.
                    // Patroni logs it safe to use, but its restart point predates this replica's base backup: its WAL is not here.
                    _pg.Slots[slot] = new LogicalSlot(slot, target, isCopy: true, readyAt: Now) { ReadyAnnounced = true, WalMissing = true };
                    Record(ModelEventKinds.SlotCopied, $"{slot} at {target} from {m.Leader} (during the bring-up: its WAL predates this replica)");
                    continue;
                }
                _pg.Slots[slot] = new LogicalSlot(slot, target, isCopy: true, readyAt: Now + ModelTimings.SlotCopyReadyDelay);
                Record(ModelEventKinds.SlotCopied, $"{slot} at {target} from {m.Leader} (PostgreSQL restarted to load it)");
                continue;
            }
            if (copy.IsCopy && copy.WalMissing)
            {
                if (copy.RecopyPending)
                {
                    _pg.Slots[slot] = new LogicalSlot(slot, target, isCopy: true, readyAt: Now + ModelTimings.SlotCopyReadyDelay);
                    Record(ModelEventKinds.SlotCopied, $"{slot} at {target} from {m.Leader} (copied again after a failed advance; PostgreSQL restarted to load it)");
                }
                else if (target > copy.ConfirmedFlush)
                {
                    copy.RecopyPending = true;
                    Record(ModelEventKinds.SlotAdvanceFailed, $"{slot} to {target}: requested WAL segment has already been removed (copied again next loop)");
                }
                continue;
            }
            copy.Advance(target);
            if (copy.IsCopy && !copy.ReadyAnnounced && copy.Ready(Now))
            {
                copy.ReadyAnnounced = true;
                Record(ModelEventKinds.SlotReady, $"{slot} at {copy.ConfirmedFlush}: safe to be used after a failover");
            }
        }
    }

    private void OnStreamRequest(StreamRequest m)
    {
        if (_pg.EndOf(m.Timeline) is { } end && m.End <= end && m.End <= _pg.EndLsn)
        {
            _downstream[m.From] = Network.Epoch(m.From);
            _walSenderSince[m.From] = (Now, Network.ProcessEpoch(m.From));
            _lastDelivery.Remove(m.From);
            _streamStart[m.From] = m.End;
            Sender.Tell(new StreamAccepted(_name, _pg.Timeline, _pg.History, _pg.RecordsAfter(m.End)));
            return;
        }
        Sender.Tell(new StreamRefused(_name, "timeline diverged", CommonPoint(m), _pg.Timeline, _pg.History));
    }

    /// <summary>Where the requester's WAL stops being this server's WAL: what pg_rewind rewinds it to.</summary>
    private Lsn CommonPoint(StreamRequest m)
    {
        if (_pg.EndOf(m.Timeline) is { } end)
        {
            return Lsn.Min(Lsn.Min(m.End, end), _pg.EndLsn);
        }
        for (var i = m.History.Length - 1; i >= 0; i--)
        {
            if (_pg.EndOf(m.History[i].Timeline) is { } ancestorEnd)
            {
                return Lsn.Min(Lsn.Min(m.History[i].End, ancestorEnd), _pg.EndLsn);
            }
        }
        return _world.InitialWal;
    }

    /// <summary>
    /// Patroni keeps the current synchronous standby while pg_stat_replication still has its walsender and the DCS its
    /// member key (postgresql/sync.py current_state): a frozen or cut-off standby stays synchronous, and commits wait for
    /// it, until its key expires (ttl) or its walsender times out (wal_sender_timeout), whichever comes first (campaign
    /// seed 20261205 PostgreSQL 15 #67, #84: commits cancelled after the client's timeout).
    /// </summary>
    private bool StillListed(string name, DcsView view) =>
        WalSenderActive(name) && view.Members.Any(k => k.Name == name);

    private bool HealthyDownstream(string name) =>
        _downstream.TryGetValue(name, out var epoch) && Network.Epoch(name) == epoch && Network.CanTalk(_name, name);

    private void Ship(WalRecord record)
    {
        if (_downstream.Count == 0)
        {
            return;
        }
        List<string>? broken = null;
        var maxDelay = _world.Options.MaxReplicationDelayMilliseconds;
        foreach (var (name, epoch) in _downstream)
        {
            if (Network.Epoch(name) != epoch || !Network.CanTalk(_name, name))
            {
                (broken ??= []).Add(name);
                continue;
            }
            var shipment = new WalShipment(_name, record, name == _pg.SyncStandby || _config.SynchronizedStandbySlots, Network.Epoch(_name));
            if (maxDelay <= 0)
            {
                _peers[name].Tell(shipment);
                continue;
            }
            var at = Math.Max(_lastDelivery.GetValueOrDefault(name), Now + _world.Random.Next(0, maxDelay + 1));
            _lastDelivery[name] = at;
            _world.Clock.Schedule(at - Now, _peers[name], shipment);
        }
        if (broken is not null)
        {
            foreach (var name in broken)
            {
                _downstream.Remove(name);
            }
        }
    }

    private void OnReplayed(Replayed m)
    {
        _standbyReplay[m.From] = m.Lsn;
        // While the leader sleeps in process_sync_replication, /sync is written when the sleep ends (OnSyncStandbyNamed).
        if (m.From == _pg.SyncStandby && _syncKeyStandby != m.From && CaughtUp(m.From)
            && _config.SynchronousMode != SynchronousMode.Off && !_ha.Sleeping)
        {
            _syncKeyStandby = m.From;
            _dcs.Tell(new SetSyncKey(_name, m.From));
        }
        TryAckPending();
    }

    private bool CaughtUp(string standby) => _standbyReplay.TryGetValue(standby, out var replayed) && replayed >= _pg.EndLsn;

    private void ManageSync(DcsView view)
    {
        var mode = _config.SynchronousMode;
        var sync = view.Sync;
        if (mode == SynchronousMode.Off)
        {
            if (!sync.IsEmpty)
            {
                _dcs.Tell(new SetSyncKey(null!, null));
                Record(ModelEventKinds.SyncStandby, "none (synchronous mode off: /sync deleted)");
            }
            _pg.SyncStandby = null;
            _syncKeyStandby = null;
            AckAllPending();
            return;
        }
        if (sync.IsEmpty && _config.SyncKeyWrittenBeforeAStandby)
        {
            _dcs.Tell(new SetSyncKey(_name, null));
            sync = new SyncKey(_name, null);
        }
        var current = _pg.SyncStandby;
        string? pick = null;
        if (current is not null && (HealthyDownstream(current) || StillListed(current, view)))
        {
            pick = current;
        }
        else if (_world.PreferredSyncStandby is { } preferred && preferred != _name && HealthyDownstream(preferred))
        {
            pick = preferred;
        }
        else
        {
            foreach (var name in _downstream.Keys)
            {
                if (HealthyDownstream(name))
                {
                    pick = name;
                    break;
                }
            }
        }
        if (pick != current)
        {
            _pg.SyncStandby = pick;
            Record(ModelEventKinds.SyncStandby, pick ?? "none");
            if (pick is not null)
            {
                _peers[pick].Tell(new ReportReplay(_name));
            }
            if (pick is not null && pick != _syncKeyStandby && !_syncHandedOver)
            {
                // Patroni (ha.py process_sync_replication) first takes the departed standby out of /sync, then names the new
                // one in synchronous_standby_names, then sleeps 2 s in the same cycle and names it in /sync only if it is
                // synchronous by then. A leader frozen, killed or cut off in those 2 s leaves /sync without a standby: only
                // the leader may be promoted.
                _syncKeyStandby = null;
                if (!sync.IsEmpty && (sync.Leader != _name || sync.Standby is not null))
                {
                    _dcs.Tell(new SetSyncKey(_name, null));
                }
                TryAckPending();
                CancelHa();
                _ha = _ha with { Blocked = true, Sleeping = true };
                _ha = _ha with { Timer = _world.Clock.Schedule(ModelTimings.SyncStandbyWait, Self, new SyncStandbyNamed(_ha.Generation)) };
                return;
            }
        }
        // Patroni names a new synchronous standby in /sync only once it has caught up (pg_stat_replication sync_state 'sync'):
        // until then only the leader may be promoted, so no acknowledged commit can be lost by promoting a lagging standby.
        if (pick is not null)
        {
            _syncHandedOver = false;
        }
        if (pick is not null && pick == current && !CaughtUp(pick))
        {
            // A standby's feedback (wal_receiver_status_interval, and after every flush) keeps the leader's view of its
            // replay current; without it a standby picked while WAL was still on its way (replication delay) would never
            // count as caught up, and /sync would never name it.
            _peers[pick].Tell(new ReportReplay(_name));
        }
        var keyStandby = pick is not null && (pick == _syncKeyStandby || CaughtUp(pick)) ? pick : null;
        _syncKeyStandby = keyStandby;
        // Patroni 3.0.2 leaves a missing /sync missing until it can name a standby (allow_promote empty: nothing written).
        if ((keyStandby is not null || !sync.IsEmpty) && (sync.Leader != _name || sync.Standby != keyStandby))
        {
            _dcs.Tell(new SetSyncKey(_name, keyStandby));
        }
        if (pick is null && mode == SynchronousMode.On)
        {
            AckAllPending();
        }
        else
        {
            TryAckPending();
        }
    }

    private void OnSyncStandbyNamed(SyncStandbyNamed m)
    {
        if (m.Generation != _ha.Generation || !_ha.Sleeping)
        {
            return;
        }
        _ha = _ha with { Blocked = false, Sleeping = false, Timer = null };
        if (_role.IsLeader && _pg.IsPrimary && _pg.SyncStandby is { } pick && HealthyDownstream(pick) && CaughtUp(pick)
            && !Network.IsPartitioned(_name))
        {
            _syncKeyStandby = pick;
            _dcs.Tell(new SetSyncKey(_name, pick));
        }
        // The cycle took the 2 s; Patroni sleeps only what is left of loop_wait.
        ScheduleTick(Math.Max(0, LoopMs - ModelTimings.SyncStandbyWait));
    }

    private bool NeedsSyncAck =>
        _config.SynchronousMode == SynchronousMode.Strict
        || (_config.SynchronousMode == SynchronousMode.On && _pg.SyncStandby is not null);

    private void TryAckPending()
    {
        if (_pending.Count == 0 || _pg.SyncStandby is not { } standby || !_standbyReplay.TryGetValue(standby, out var replayed))
        {
            return;
        }
        var acked = 0;
        while (acked < _pending.Count && _pending[acked].Lsn <= replayed)
        {
            var p = _pending[acked];
            p.ReplyTo.Tell(new RowCommitted(p.RowId, p.Lsn, _pg.Timeline, _name));
            acked++;
        }
        _pending.RemoveRange(0, acked);
    }

    private void AckAllPending()
    {
        foreach (var p in _pending)
        {
            p.ReplyTo.Tell(new RowCommitted(p.RowId, p.Lsn, _pg.Timeline, _name));
        }
        _pending.Clear();
    }

    private void FailPending(string reason)
    {
        foreach (var p in _pending)
        {
            p.ReplyTo.Tell(new RowFailed(p.RowId, _name, reason));
        }
        _pending.Clear();
    }
}
