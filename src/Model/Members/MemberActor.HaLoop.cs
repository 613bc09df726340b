using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.Time;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Members;

/// <summary>The HA loop (Patroni's ha.py in outline): the cycle against the DCS, the leader's duties, the race for a free lease, promotion and demotion.</summary>
public sealed partial class MemberActor
{
    private void ScheduleTick(long delay)
    {
        CancelHa();
        _ha = _ha with { Timer = _world.Clock.Schedule(delay, Self, new HaTick(_ha.Generation)) };
    }

    private void CancelHa()
    {
        _ha.Timer?.Cancel();
        _ha = _ha with { Timer = null };
        _ha = _ha with { Generation = _ha.Generation + 1, InFlight = false, Blocked = false, Sleeping = false };
    }

    private void OnTick(HaTick tick)
    {
        if (tick.Generation == _ha.Generation && !_ha.InFlight && !_ha.Blocked)
        {
            RunCycle(woken: false);
        }
    }

    private void RunCycle(bool woken)
    {
        CancelHa();
        _ha = _ha with { WokenCycle = woken };
        CheckStreaming();
        if (Network.IsPartitioned(_name))
        {
            // The DCS call hangs: Patroni retries for retry_timeout. A leader gives up early enough to demote before its lease can expire.
            _ha = _ha with { Blocked = true };
            var delay = RetryMs;
            if (_role.IsLeader && _pg.IsPrimary)
            {
                delay = Math.Clamp(_ha.LeaseDeadline - 1 - Now, 0, RetryMs);
            }
            _ha = _ha with { Timer = _world.Clock.Schedule(delay, Self, new DcsTimedOut(_ha.Generation)) };
            return;
        }
        _ha = _ha with { InFlight = true };
        _dcs.Tell(new HaCycle(new MemberStatus(_name, _role.IsLeader && _pg.IsPrimary, _stream.Streaming, _pg.Timeline, _pg.EndLsn)));
    }

    private void OnDcsTimedOut(DcsTimedOut m)
    {
        if (m.Generation != _ha.Generation)
        {
            return;
        }
        _ha = _ha with { Blocked = false };
        if (_role.IsLeader && _pg.IsPrimary)
        {
            Demote($"could not reach the DCS within retry_timeout ({_config.Timings.RetryTimeout}s)", graceful: false);
        }
        ScheduleTick(LoopMs);
    }

    private void OnView(DcsView view)
    {
        _ha = _ha with { InFlight = false };
        _startInProgress = false;
        _config = view.Config;
        if (!PromoteTaskRunning)
        {
            RunSlotPass();
            ReloadIfPermanentSlotsChanged();
        }
        if (_role.IsLeader)
        {
            LeaderCycle(view);
        }
        else
        {
            ReplicaCycle(view);
        }
        if (!_role.Stopped && !_role.Frozen && !_ha.Blocked)
        {
            ScheduleTick(LoopMs);
        }
    }

    private void LeaderCycle(DcsView view)
    {
        if (view.Renewed)
        {
            _ha = _ha with { LeaseDeadline = view.Lease?.ExpiresAt ?? Now + TtlMs };
            if (HandleFailoverKey(view))
            {
                return;
            }
            LeaderDuties(view);
            return;
        }
        if (view.Lease is null)
        {
            // A primary without the lock races like everyone else (Patroni: process_unhealthy_cluster); if it is not the
            // healthiest node it demotes ("immediate-nolock").
            if (Eligible(view, out var why))
            {
                _ha = _ha with { RaceReason = "took the free lease back" };
                _dcs.Tell(new AcquireLease(_name));
                return;
            }
            Demote($"no leader lock and {why}", graceful: false);
            return;
        }
        Demote($"{view.Lease.Holder} holds the leader lease", graceful: false);
    }

    private void OnLeaseAnswer(LeaseAnswer answer)
    {
        if (_role.IsLeader)
        {
            if (answer.Acquired)
            {
                _ha = _ha with { LeaseDeadline = answer.View.Lease?.ExpiresAt ?? Now + TtlMs };
                LeaderDuties(answer.View);
            }
            else
            {
                Demote($"lost the leader lease to {answer.View.Lease?.Holder}", graceful: false);
            }
        }
        else if (answer.Acquired)
        {
            Promote(answer.View, _ha.RaceReason);
        }
        else if (answer.View.Lease is { } lease && lease.Holder != _name)
        {
            // Patroni (ha.py process_unhealthy_cluster): "following new leader after trying and failing to obtain lock":
            // the loser follows the winner in the same cycle, not a loop_wait later.
            FollowLeaseHolder(answer.View, lease.Holder);
        }
    }

    private void LeaderDuties(DcsView view)
    {
        if (PromoteTaskRunning)
        {
            return;
        }
        EnsurePhysicalSlots(view);
        EnsurePermanentSlots();
        StartCheckpointAfterPromote();
        ManageSync(view);
    }

    private bool HandleFailoverKey(DcsView view)
    {
        if (view.Failover is not { } key || (key.Leader is not null && key.Leader != _name))
        {
            return false;
        }
        if (key.Candidate == _name)
        {
            _dcs.Tell(new SetFailoverKey(null));
            return false;
        }
        var candidate = SwitchoverCandidate(key.Candidate, asyncAllowed: key.AllowsAsyncCandidate(_config));
        if (candidate is null)
        {
            _dcs.Tell(new SetFailoverKey(null));
            return false;
        }
        Demote(key.Candidate is null ? "switchover" : $"switchover to {key.Candidate}", graceful: true);
        // Patroni demotes in its async executor (stop, then start as a replica): meanwhile the member answers POST /restart
        // with 503 "demote already in progress" and has no WAL position in its status (campaign seed 20261206 PostgreSQL 15
        // #21; seed 20261204 PostgreSQL 17 #16, #20: a switchover right after a switchover finds no good candidate).
        _demoteUntil = Now + ModelTimings.DemoteDuration;
        _dcs.Tell(new ReleaseLease(_name, key.Candidate is null ? "switchover" : $"switchover to {key.Candidate}"));
        return true;
    }

    private string? SwitchoverCandidate(string? wanted, bool asyncAllowed)
    {
        foreach (var name in _downstream.Keys)
        {
            if ((wanted is null || wanted == name) && HealthyDownstream(name)
                && (_config.SynchronousMode == SynchronousMode.Off || name == _pg.SyncStandby || asyncAllowed))
            {
                return name;
            }
        }
        return null;
    }

    private void ReplicaCycle(DcsView view)
    {
        if (view.Lease is { } lease)
        {
            if (lease.Holder == _name)
            {
                // Started (or healed) while the lease is still ours: take it again (compare-and-swap renews it), then promote.
                _ha = _ha with { RaceReason = "still holding the leader lease" };
                _dcs.Tell(new AcquireLease(_name));
                return;
            }
            FollowLeaseHolder(view, lease.Holder);
            // Patroni copies and advances permanent slots in its regular loop, not when a watch or a PATCH wakes it.
            // On PostgreSQL 17 the slotsync worker syncs failover slots; the model runs it at the same cadence.
            if (_stream.Streaming && !_ha.WokenCycle && (!_config.PermanentSlots.IsDefaultOrEmpty || _config.FailoverSlots))
            {
                _peers[lease.Holder].Tell(new SlotSyncRequest(_name));
            }
            return;
        }
        if (Eligible(view, out _))
        {
            _ha = _ha with { RaceReason = view.Failover?.Candidate == _name ? "manual failover/switchover candidate" : "won the leader race" };
            if (view.Failover?.Candidate != _name && _world.PreferredCandidate != _name && AsksAHangingMember(view))
            {
                // The status requests wait for the hanging member's 2 s timeout; then the lock is tried (compare-and-swap:
                // whoever took it meanwhile wins, and this member follows it).
                CancelHa();
                _ha = _ha with { Blocked = true, Sleeping = true };
                _ha = _ha with { Timer = _world.Clock.Schedule(ModelTimings.RestStatusTimeout, Self, new RaceStatusesFetched(_ha.Generation)) };
                return;
            }
            _dcs.Tell(new AcquireLease(_name));
        }
    }

    /// <summary>
    /// Whether the members this one asks in its race (every other known member; in synchronous mode the /sync ones) include
    /// one that hangs: running but frozen or cut off, so its REST API neither answers nor refuses.
    /// </summary>
    private bool AsksAHangingMember(DcsView view)
    {
        var syncActive = _config.SynchronousMode != SynchronousMode.Off && !view.Sync.IsEmpty;
        foreach (var name in _config.MemberNames)
        {
            if (name != _name && (!syncActive || view.Sync.Matches(name)) && Network.SilentSince(name) is not null)
            {
                return true;
            }
        }
        return false;
    }

    private void OnRaceStatusesFetched(RaceStatusesFetched m)
    {
        if (m.Generation != _ha.Generation || !_ha.Sleeping)
        {
            return;
        }
        _ha = _ha with { Blocked = false, Sleeping = false, Timer = null };
        if (!Network.IsPartitioned(_name))
        {
            _dcs.Tell(new AcquireLease(_name));
        }
        ScheduleTick(Math.Max(0, LoopMs - ModelTimings.RestStatusTimeout));
    }

    private void FollowLeaseHolder(DcsView view, string holder)
    {
        if (_stream.Streaming && view.Member(holder) is { IsLeader: true } leaderKey && leaderKey.Timeline != _pg.Timeline)
        {
            _stream = _stream with { Streaming = false };
        }
        Follow(holder);
    }

    private bool Eligible(DcsView view, out string why) =>
        new LeaderRace(_config, _world.PreferredCandidate, _world.Options.PlantedBugPromoteBeyondMaximumLag, Network.IsReachable, _world.Rest)
            .Eligible(new RaceCandidate(_name, _pg.IsPrimary, _pg.Timeline, _pg.EndLsn), view, out why);

    /// <summary>
    /// Patroni's physical slots on the leader: one per member with a live member key. A slot created for a member that
    /// was not there before schedules a reload of the slot state (unknown logical slots are dropped); slots of members
    /// that left are dropped without a reload, unless the member's walsender is still active (it was frozen or cut off,
    /// less than wal_sender_timeout ago): then the drop fails and Patroni reloads, on every loop until the walsender ends.
    /// </summary>
    private void EnsurePhysicalSlots(DcsView view)
    {
        var live = view.Members.Where(k => k.Name != _name && k.ExpiresAt > Now).Select(k => k.Name).ToImmutableSortedSet(StringComparer.Ordinal);
        (_physicalSlots, _seenMemberKeys, var joined, var dropFailed) = SlotKeeping.PhysicalSlots(_physicalSlots, _seenMemberKeys, live, WalSenderActive);
        if (!joined.IsEmpty)
        {
            ScheduleSlotReload($"physical slot created for {string.Join(", ", joined)}");
        }
        if (!dropFailed.IsEmpty)
        {
            ScheduleSlotReload($"physical slot of {string.Join(", ", dropFailed)} still active: drop failed");
        }
    }

    /// <summary>
    /// Whether this primary's walsender to <paramref name="member"/> is still active: the member streamed from it, and
    /// its connection is still open on this side (the same process, no silence since that outlasted wal_sender_timeout).
    /// </summary>
    private bool WalSenderActive(string member) =>
        _walSenderSince.TryGetValue(member, out var connected)
        && Network.ConnectionOpen(member, connected.ProcessEpoch, connected.At, ModelTimings.WalSenderTimeout);

    private void Promote(DcsView view, string reason)
    {
        _physicalSlots = null;
        _seenMemberKeys = _seenMemberKeys.Clear();
        var newTimeline = Math.Max(view.MaxTimeline, _pg.Timeline) + 1;
        var oldTimeline = _pg.Timeline;
        var fork = _pg.Promote(newTimeline);
        _dcs.Tell(new RecordPromotion(_name, newTimeline, fork));
        _role = _role with { IsLeader = true };
        _stream = _stream with { Upstream = null, Streaming = false };
        _downstream.Clear();
        _walSenderSince.Clear();
        _standbyReplay.Clear();
        _syncKeyStandby = null;
        _ha = _ha with { LeaseDeadline = view.Lease is { } lease && lease.Holder == _name ? lease.ExpiresAt : Now + TtlMs };
        Record(ModelEventKinds.Promoted, $"tl{newTimeline} fork={fork} (from tl{oldTimeline}; {reason})");
        _pg.Write(WalKind.EndOfRecovery, WalSizes.EndOfRecovery);
        foreach (var slot in _pg.Slots.Values.ToList())
        {
            if (!slot.IsCopy)
            {
                continue;
            }
            if ((_config.PermanentSlots.Contains(slot.Name) || slot.Failover) && slot.Ready(Now))
            {
                // A synced failover slot becomes the new primary's own slot at the position it was last synced to.
                slot.IsCopy = false;
                continue;
            }
            _pg.Slots.Remove(slot.Name);
            Record(ModelEventKinds.SlotDropped, $"{slot.Name} (copy not ready when promoted: lost)");
        }
        Become(Leading);
        Record(ModelEventKinds.Writable, $"tl {newTimeline}");
        _client.Tell(new LeaderPromoted(_name, _pg.Rows));
        if (_config.NewLeaderDropsUnknownSlotsAtOnce)
        {
            // Patroni 4's first cycle as leader runs a slot pass at once: a reload scheduled while a standby happens now,
            // it creates the members' physical slots, and the reload that schedules happens in the same pass (measured).
            RunSlotPass();
            EnsurePhysicalSlots(view);
            RunSlotPass();
            EnsurePermanentSlots();
            _world.Clock.Schedule(ModelTimings.CheckpointAfterPromote, Self, new PromoteWake(newTimeline));
            ManageSync(view);
            return;
        }
        // Patroni 3.0.2 promotes in its async executor (postgresql promote: pg_ctl promote, then _wait_promote polls
        // pg_controldata once a second for loop_wait seconds). While it runs, a cycle only updates the leader lock
        // ("updated leader lock during promote"): no slot pass, no synchronous standby, no physical slots. With loop_wait
        // 2 or more the second poll sees the server in production and wakes the loop; with loop_wait 1 the task ends after
        // its one poll without a wake, and the first slot pass is the regular cycle after it (campaign seed 20261206 #77:
        // the promotion at 0 s, a busy cycle at 1.0 s, the pass that dropped the unknown slots at 2.07 s). That pass reloads
        // the slot state (unknown slots dropped) and creates the physical slots, which schedules the next reload; the
        // CHECKPOINT it starts (rewind.py ensure_checkpoint_after_promote) wakes the loop again when it returns.
        _promoteTaskUntil = Now + ModelTimings.PromoteTask;
        _checkpointAfterPromoteDue = true;
        ScheduleSlotReload("promotion");
        if (_config.Timings.LoopWait >= 2)
        {
            _world.Clock.Schedule(ModelTimings.PromoteTaskWake, Self, new PromoteWake(newTimeline));
        }
    }

    /// <summary>Patroni 3.0.2's promote task still runs in the async executor: a cycle renews the lock and does nothing else.</summary>
    private bool PromoteTaskRunning => _role.IsLeader && Now <= _promoteTaskUntil;

    /// <summary>The first leader cycle after the promote task starts the post-promote CHECKPOINT, whose return wakes the loop.</summary>
    private void StartCheckpointAfterPromote()
    {
        if (!_checkpointAfterPromoteDue)
        {
            return;
        }
        _checkpointAfterPromoteDue = false;
        _world.Clock.Schedule(ModelTimings.CheckpointAfterPromote, Self, new PromoteWake(_pg.Timeline));
    }

    private void Demote(string reason, bool graceful)
    {
        var wasWritable = Writable;
        if (_pg.IsPrimary)
        {
            Ship(_pg.Write(WalKind.ShutdownCheckpoint, WalSizes.ShutdownCheckpoint));
            if (graceful && _world.Options.MaxReplicationDelayMilliseconds > 0)
            {
                // A clean shutdown waits until the walsenders sent all WAL to the connected standbys: WAL still in flight
                // arrives now (in order; what a standby has already applied it ignores, the delayed copies too).
                foreach (var name in _downstream.Keys.Where(HealthyDownstream).ToList())
                {
                    foreach (var record in _pg.RecordsAfter(_streamStart.GetValueOrDefault(name, _world.InitialWal)))
                    {
                        _peers[name].Tell(new WalShipment(_name, record, false, Network.Epoch(_name)));
                    }
                }
            }
            if (graceful)
            {
                var info = SlotPositions(withFailoverSlots: false);
                foreach (var name in _downstream.Keys)
                {
                    if (HealthyDownstream(name))
                    {
                        _peers[name].Tell(info);
                    }
                }
            }
        }
        _pg.IsPrimary = false;
        _pg.SyncStandby = null;
        _syncKeyStandby = null;
        _role = _role with { IsLeader = false };
        Record(ModelEventKinds.Demoted, reason);
        if (wasWritable)
        {
            Record(ModelEventKinds.ReadOnly, $"tl {_pg.Timeline}");
        }
        FailPending($"demoted: {reason}");
        _downstream.Clear();
        _walSenderSince.Clear();
        _standbyReplay.Clear();
        // Patroni restarts PostgreSQL as a replica: every replication connection to it breaks.
        Network.Bump(_name);
        BecomeStandbySlots("role change");
        _stream = _stream with { Upstream = null, Streaming = false };
        Become(Following);
    }
}
