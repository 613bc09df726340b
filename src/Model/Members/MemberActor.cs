using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Time;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.World;

namespace PatroniModel.Model.Members;

/// <summary>
/// One Patroni member with its PostgreSQL (the container): the HA loop every loop_wait (Patroni's ha.py in outline),
/// one behaviour per role: <see cref="Leading"/>, <see cref="Following"/>, <see cref="Frozen"/>, <see cref="Stopped"/>.
/// A cut-off member keeps its role but its DCS calls time out after retry_timeout.
/// </summary>
/// <remarks>
/// Streaming is immediate by default: each WAL record the primary writes is shipped at once to every replica streaming
/// from it (with <see cref="ModelOptions.MaxReplicationDelayMilliseconds"/>, after a seeded delay). A replica that loses
/// its connection (epoch change in <see cref="ModelNetwork"/>) asks again on its next HA cycle, from its end of WAL.
/// </remarks>
public sealed class MemberActor : ReceiveActor
{
    private readonly string _name;
    private readonly ModelWorld _world;
    private readonly PostgresServer _pg = new();
    private readonly SortedDictionary<string, int> _downstream = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Lsn> _standbyReplay = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastDelivery = new(StringComparer.Ordinal);

    /// <summary>Where each downstream started streaming from this primary (what a clean shutdown may still have to send it).</summary>
    private readonly Dictionary<string, Lsn> _streamStart = new(StringComparer.Ordinal);
    private readonly List<PendingCommit> _pending = [];

    /// <summary>
    /// The members the leader keeps a physical slot for (Patroni's use_slots), null until its first loop as leader.
    /// Creating one for a member that joins or rejoins makes Patroni reload its slot state, which drops unknown logical
    /// slots (seen on Patroni 3.0.2: "Dropped unknown replication slot" about 1 s after a killed member was started).
    /// </summary>
    private ImmutableSortedSet<string>? _physicalSlots;

    /// <summary>The member keys this leader has seen live since it leads (a slot is dropped only for a member seen and gone).</summary>
    private ImmutableSortedSet<string> _seenMemberKeys = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);
    private IActorRef _dcs = ActorRefs.Nobody;
    private IActorRef _client = ActorRefs.Nobody;
    private ImmutableDictionary<string, IActorRef> _peers = ImmutableDictionary<string, IActorRef>.Empty;
    private ClusterConfig _config;
    private ImmutableArray<string>? _knownPermanent;
    private bool _isLeader;
    private bool _frozen;
    private bool _stopped;
    private long _haGeneration;
    private VirtualClock.Timer? _haTimer;
    private bool _inFlight;
    private bool _blocked;
    private long _leaseDeadline;
    private string? _upstream;
    private bool _streaming;
    private int _myEpochAtStream;
    private int _upstreamEpochAtStream;
    private int _refusals;
    private string _raceReason = "won the leader race";
    private bool _wokenCycle;
    private string? _syncKeyStandby;

    public MemberActor(string name, ModelWorld world)
    {
        _name = name;
        _world = world;
        _config = world.InitialConfig;
        world.Rest[name] = () => new RestStatus(!_stopped && _pg.IsPrimary, _pg.Timeline, _pg.EndLsn);
        Receive<WireMember>(m =>
        {
            _dcs = m.Dcs;
            _client = m.Client;
            _peers = m.Peers;
        });
        Receive<BootstrapMember>(OnBootstrap);
        Receive<InspectMember>(m => Sender.Tell(Inspect(m.WithRows)));
    }

    public static Props Props(string name, ModelWorld world) => ActorFactory<MemberActor>.Props(() => new MemberActor(name, world));

    private long Now => _world.Now;
    private ModelNetwork Network => _world.Network;
    private long LoopMs => _config.LoopWait * 1000L;
    private long TtlMs => _config.Ttl * 1000L;
    private long RetryMs => _config.RetryTimeout * 1000L;
    private bool Writable => !_stopped && !_frozen && _isLeader && _pg.IsPrimary;

    private void Record(string kind, string detail = "") => _world.Record(_name, kind, detail);

    // ---------------------------------------------------------------- behaviours

    private void Leading()
    {
        Common();
        Receive<InsertRow>(OnInsertRow);
        Receive<StreamRequest>(OnStreamRequest);
        Receive<Replayed>(OnReplayed);
        Receive<SlotSyncRequest>(OnSlotSyncRequest);
        Receive<AppendWal>(OnAppendWal);
        Receive<ConsumeSlot>(OnConsume);
        Receive<CreateLogicalSlot>(OnCreateSlot);
        Receive<DropLogicalSlot>(OnDropSlot);
        ReceiveAny(_ => { });
    }

    private void Following()
    {
        Common();
        Receive<InsertRow>(m => Sender.Tell(new RowRejected(m.RowId, _name, "read-only: in recovery")));
        Receive<StreamRequest>(m => Sender.Tell(new StreamRefused(_name, "not a primary", null, _pg.Timeline, _pg.History)));
        Receive<StreamAccepted>(OnStreamAccepted);
        Receive<StreamRefused>(OnStreamRefused);
        Receive<WalShipment>(OnShipment);
        Receive<SlotSyncInfo>(OnSlotSyncInfo);
        Receive<AppendWal>(_ => Sender.Tell(new MemberAnswer(false, $"{_name} is read-only (in recovery)")));
        Receive<ConsumeSlot>(_ => Sender.Tell(new MemberAnswer(false, $"{_name} is in recovery: logical decoding needs the primary")));
        Receive<CreateLogicalSlot>(_ => Sender.Tell(new MemberAnswer(false, $"{_name} is in recovery: logical decoding cannot be used while in recovery")));
        Receive<DropLogicalSlot>(_ => Sender.Tell(new MemberAnswer(false, $"{_name} is in recovery")));
        ReceiveAny(_ => { });
    }

    private void Common()
    {
        Receive<HaTick>(OnTick);
        Receive<WakeUp>(_ =>
        {
            if (!_inFlight && !_blocked)
            {
                RunCycle(woken: true);
            }
        });
        Receive<DcsView>(OnView);
        Receive<LeaseAnswer>(OnLeaseAnswer);
        Receive<DcsTimedOut>(OnDcsTimedOut);
        Receive<InspectMember>(m => Sender.Tell(Inspect(m.WithRows)));
        Receive<IdentifySystem>(_ => Sender.Tell(new SystemIdentity(_pg.Timeline, _pg.EndLsn, !_pg.IsPrimary)));
        Receive<ReadTimelineHistory>(m => Sender.Tell(new TimelineHistoryAnswer(HistoryOf(m.Timeline))));
        Receive<FindSlot>(m => Sender.Tell(new SlotAnswer(_pg.Slots.TryGetValue(m.Slot, out var s) ? Row(s) : null)));
        Receive<KillProcess>(_ => OnKill());
        Receive<FreezeProcess>(_ => OnFreeze());
        Receive<RestartPostgres>(_ => OnRestart());
        Receive<HealMember>(_ =>
        {
            // The DCS call that was retrying goes through now.
            if (_blocked)
            {
                RunCycle(woken: true);
            }
        });
        Receive<ReportReplay>(m =>
        {
            if (_upstream == m.Leader && _streaming)
            {
                _peers[m.Leader].Tell(new Replayed(_name, _pg.EndLsn));
            }
        });
    }

    private void Frozen()
    {
        Receive<InspectMember>(m => Sender.Tell(Inspect(m.WithRows)));
        Receive<ThawProcess>(_ => OnThaw());
        Receive<KillProcess>(_ => OnKill());
        ReceiveAny(_ => { });
    }

    private void Stopped()
    {
        Receive<InspectMember>(m => Sender.Tell(Inspect(m.WithRows)));
        Receive<StartProcess>(_ => OnStart());
        ReceiveAny(_ => { });
    }

    // ---------------------------------------------------------------- bootstrap and faults

    private void OnBootstrap(BootstrapMember m)
    {
        if (m.Leader == _name)
        {
            _pg.IsPrimary = true;
            _isLeader = true;
            _leaseDeadline = Now + TtlMs;
            Become(Leading);
            // The cluster is handed over settled: the bootstrap leader already has its replicas' physical slots.
            _physicalSlots = [.. _config.MemberNames.Where(n => n != _name)];
            Record(ModelEventKinds.Started, "bootstrap: primary");
            Record(ModelEventKinds.Writable, $"tl {_pg.Timeline}");
        }
        else
        {
            Become(Following);
            Record(ModelEventKinds.Started, "bootstrap: replica");
            Follow(m.Leader);
        }
        ScheduleTick(m.FirstTickDelay);
    }

    private void OnKill()
    {
        var wasWritable = Writable;
        CancelHa();
        if (wasWritable)
        {
            Record(ModelEventKinds.ReadOnly, "killed");
        }
        _stopped = true;
        _frozen = false;
        FailPending("connection lost: the server was killed");
        Record(ModelEventKinds.Killed, $"tl{_pg.Timeline} at {_pg.EndLsn}");
        _downstream.Clear();
        _upstream = null;
        _streaming = false;
        Become(Stopped);
    }

    private void OnStart()
    {
        _stopped = false;
        _pg.IsPrimary = false;
        _pg.SyncStandby = null;
        _isLeader = false;
        Record(ModelEventKinds.Started, $"tl{_pg.Timeline} at {_pg.EndLsn} (crash recovery, in recovery until Patroni decides)");
        ReloadSlots("start");
        Become(Following);
        ScheduleTick(ModelTimings.StartupDelay);
    }

    private void OnFreeze()
    {
        var wasWritable = Writable;
        CancelHa();
        _frozen = true;
        Record(ModelEventKinds.Frozen, _isLeader ? "leader" : "replica");
        if (wasWritable)
        {
            Record(ModelEventKinds.ReadOnly, "frozen");
        }
        Become(Frozen);
    }

    private void OnThaw()
    {
        _frozen = false;
        Record(ModelEventKinds.Thawed, _isLeader ? "believes it is the leader" : "replica");
        if (Writable)
        {
            Record(ModelEventKinds.Writable, $"tl {_pg.Timeline} (thawed; its HA loop has not looked at the DCS yet)");
        }
        if (_isLeader)
        {
            Become(Leading);
        }
        else
        {
            Become(Following);
        }
        ScheduleTick(ModelTimings.ThawHaDelay);
    }

    private void OnRestart()
    {
        Record(ModelEventKinds.Restarted, _pg.IsPrimary ? "primary (POST /restart)" : "replica (POST /restart)");
        if (_pg.IsPrimary)
        {
            Ship(_pg.Write(WalKind.ShutdownCheckpoint, WalSizes.ShutdownCheckpoint));
            FailPending("connection lost: PostgreSQL restarted");
            _downstream.Clear();
        }
        Network.Bump(_name);
        _streaming = false;
        ReloadSlots("restart");
        if (_pg.IsPrimary && _isLeader)
        {
            EnsurePermanentSlots();
        }
    }

    // ---------------------------------------------------------------- the HA loop

    private void ScheduleTick(long delay)
    {
        CancelHa();
        _haTimer = _world.Clock.Schedule(delay, Self, new HaTick(_haGeneration));
    }

    private void CancelHa()
    {
        _haTimer?.Cancel();
        _haTimer = null;
        _haGeneration++;
        _inFlight = false;
        _blocked = false;
    }

    private void OnTick(HaTick tick)
    {
        if (tick.Generation == _haGeneration && !_inFlight && !_blocked)
        {
            RunCycle(woken: false);
        }
    }

    private void RunCycle(bool woken)
    {
        CancelHa();
        _wokenCycle = woken;
        CheckStreaming();
        if (Network.IsPartitioned(_name))
        {
            // The DCS call hangs: Patroni retries for retry_timeout. A leader gives up early enough to demote before its lease can expire.
            _blocked = true;
            var delay = RetryMs;
            if (_isLeader && _pg.IsPrimary)
            {
                delay = Math.Clamp(_leaseDeadline - 1 - Now, 0, RetryMs);
            }
            _haTimer = _world.Clock.Schedule(delay, Self, new DcsTimedOut(_haGeneration));
            return;
        }
        _inFlight = true;
        _dcs.Tell(new HaCycle(new MemberStatus(_name, _isLeader && _pg.IsPrimary, _streaming, _pg.Timeline, _pg.EndLsn)));
    }

    private void OnDcsTimedOut(DcsTimedOut m)
    {
        if (m.Generation != _haGeneration)
        {
            return;
        }
        _blocked = false;
        if (_isLeader && _pg.IsPrimary)
        {
            Demote($"could not reach the DCS within retry_timeout ({_config.RetryTimeout}s)", graceful: false);
        }
        ScheduleTick(LoopMs);
    }

    private void OnView(DcsView view)
    {
        _inFlight = false;
        _config = view.Config;
        ReloadIfPermanentSlotsChanged();
        if (_isLeader)
        {
            LeaderCycle(view);
        }
        else
        {
            ReplicaCycle(view);
        }
        if (!_stopped && !_frozen && !_blocked)
        {
            ScheduleTick(LoopMs);
        }
    }

    private void LeaderCycle(DcsView view)
    {
        if (view.Renewed)
        {
            _leaseDeadline = view.Lease?.ExpiresAt ?? Now + TtlMs;
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
                _raceReason = "took the free lease back";
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
        if (_isLeader)
        {
            if (answer.Acquired)
            {
                _leaseDeadline = answer.View.Lease?.ExpiresAt ?? Now + TtlMs;
                LeaderDuties(answer.View);
            }
            else
            {
                Demote($"lost the leader lease to {answer.View.Lease?.Holder}", graceful: false);
            }
        }
        else if (answer.Acquired)
        {
            Promote(answer.View, _raceReason);
        }
    }

    private void LeaderDuties(DcsView view)
    {
        EnsurePhysicalSlots(view);
        EnsurePermanentSlots();
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
        var candidate = SwitchoverCandidate(key.Candidate);
        if (candidate is null)
        {
            _dcs.Tell(new SetFailoverKey(null));
            return false;
        }
        Demote(key.Candidate is null ? "switchover" : $"switchover to {key.Candidate}", graceful: true);
        _dcs.Tell(new ReleaseLease(_name, key.Candidate is null ? "switchover" : $"switchover to {key.Candidate}"));
        return true;
    }

    private string? SwitchoverCandidate(string? wanted)
    {
        foreach (var name in _downstream.Keys)
        {
            if ((wanted is null || wanted == name) && HealthyDownstream(name)
                && (_config.SynchronousMode == SynchronousMode.Off || name == _pg.SyncStandby))
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
                _raceReason = "still holding the leader lease";
                _dcs.Tell(new AcquireLease(_name));
                return;
            }
            if (_streaming && view.Member(lease.Holder) is { IsLeader: true } leaderKey && leaderKey.Timeline != _pg.Timeline)
            {
                _streaming = false;
            }
            Follow(lease.Holder);
            // Patroni copies and advances permanent slots in its regular loop, not when a watch or a PATCH wakes it.
            // On PostgreSQL 17 the slotsync worker syncs failover slots; the model runs it at the same cadence.
            if (_streaming && !_wokenCycle && (!_config.PermanentSlots.IsDefaultOrEmpty || _config.FailoverSlots))
            {
                _peers[lease.Holder].Tell(new SlotSyncRequest(_name));
            }
            return;
        }
        if (Eligible(view, out _))
        {
            _raceReason = view.Failover?.Candidate == _name ? "manual failover/switchover candidate" : "won the leader race";
            _dcs.Tell(new AcquireLease(_name));
        }
    }

    /// <summary>
    /// Patroni's is_healthiest_node before racing for a free lease (ha.py): a primary that lost its lock only checks that
    /// its timeline is not behind the cluster's (so a thawed ex-leader cannot undo a promotion); a /failover key decides
    /// manual failovers and switchovers; with an active /sync key only the last leader and the sync standby race; then
    /// the lag against the last leader's optime and the wal positions of the other reachable members (a reachable primary
    /// disqualifies everyone). Like Patroni's default (check_timeline off), replicas compare wal positions only.
    /// </summary>
    private bool Eligible(DcsView view, out string why)
    {
        why = "";
        if (_pg.IsPrimary)
        {
            if (_pg.Timeline < view.MaxTimeline)
            {
                why = $"its timeline {_pg.Timeline} is behind the cluster's timeline {view.MaxTimeline}";
                return false;
            }
            return true;
        }
        var syncActive = _config.SynchronousMode != SynchronousMode.Off && !view.Sync.IsEmpty;
        if (view.Failover is { } key)
        {
            if (key.Leader is not null && syncActive && !view.Sync.Matches(_name))
            {
                why = "switchover in synchronous mode: not a synchronous member";
                return false;
            }
            if (key.Candidate is not null)
            {
                why = $"the failover candidate is {key.Candidate}";
                return key.Candidate == _name;
            }
            if (key.Leader == _name)
            {
                why = "it is the former leader of a switchover";
                return false;
            }
            return Healthiest(view, checkLag: false, syncActive: false, exclude: key.Leader, out why);
        }
        if (_world.PreferredCandidate is { } preferred && preferred != _name && Network.IsReachable(preferred))
        {
            why = $"{preferred} is the preferred candidate";
            return false;
        }
        if (syncActive && !view.Sync.Matches(_name))
        {
            why = "synchronous mode: it is neither the last leader nor the synchronous standby";
            return false;
        }
        return Healthiest(view, checkLag: true, syncActive, exclude: null, out why);
    }

    private bool Healthiest(DcsView view, bool checkLag, bool syncActive, string? exclude, out string why)
    {
        why = "";
        if (checkLag && !_world.Options.PlantedBugPromoteBeyondMaximumLag
            && view.Optime.BytesAfter(_pg.EndLsn) > _config.MaximumLagOnFailover)
        {
            why = $"its position is more than maximum_lag_on_failover behind {view.Optime}";
            return false;
        }
        if (_world.PreferredCandidate == _name)
        {
            return true;
        }
        foreach (var (name, rest) in _world.Rest)
        {
            if (name == _name || name == exclude || !Network.IsReachable(name) || (syncActive && !view.Sync.Matches(name)))
            {
                continue;
            }
            var status = rest();
            if (status.IsPrimary)
            {
                why = $"the primary {name} is still alive";
                return false;
            }
            if (status.Lsn > _pg.EndLsn && !(syncActive && view.Sync.Leader == name))
            {
                why = $"{name} is ahead ({status.Lsn})";
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Patroni's physical slots on the leader: one per member with a live member key. A slot created for a member that
    /// was not there before schedules a reload of the slot state (unknown logical slots are dropped); slots of members
    /// that left are dropped without a reload.
    /// </summary>
    private void EnsurePhysicalSlots(DcsView view)
    {
        var live = view.Members.Where(k => k.Name != _name && k.ExpiresAt > Now).Select(k => k.Name).ToImmutableSortedSet(StringComparer.Ordinal);
        var joined = _physicalSlots is null ? live : live.Except(_physicalSlots);
        // A member whose key this leader saw and that is gone now (expired) loses its slot; a key not published yet
        // (a member's first loop after bootstrap) does not.
        var left = _seenMemberKeys.Except(live);
        _physicalSlots = (_physicalSlots ?? []).Union(live).Except(left);
        _seenMemberKeys = _seenMemberKeys.Union(live).Except(left);
        if (!joined.IsEmpty)
        {
            ReloadSlots($"physical slot created for {string.Join(", ", joined)}");
        }
    }

    private void Promote(DcsView view, string reason)
    {
        _physicalSlots = null;
        _seenMemberKeys = _seenMemberKeys.Clear();
        var newTimeline = Math.Max(view.MaxTimeline, _pg.Timeline) + 1;
        var oldTimeline = _pg.Timeline;
        var fork = _pg.Promote(newTimeline);
        _dcs.Tell(new RecordPromotion(_name, newTimeline, fork));
        _isLeader = true;
        _upstream = null;
        _streaming = false;
        _downstream.Clear();
        _standbyReplay.Clear();
        _syncKeyStandby = null;
        _leaseDeadline = view.Lease is { } lease && lease.Holder == _name ? lease.ExpiresAt : Now + TtlMs;
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
        // Patroni's first cycle as leader creates the members' physical slots right after the promotion.
        EnsurePhysicalSlots(view);
        EnsurePermanentSlots();
        Become(Leading);
        Record(ModelEventKinds.Writable, $"tl {newTimeline}");
        _client.Tell(new LeaderPromoted(_name, [.. _pg.Rows]));
        ManageSync(view);
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
                    foreach (var record in _pg.RecordsAfter(_streamStart.GetValueOrDefault(name, WalSizes.Initial)))
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
        _isLeader = false;
        Record(ModelEventKinds.Demoted, reason);
        if (wasWritable)
        {
            Record(ModelEventKinds.ReadOnly, $"tl {_pg.Timeline}");
        }
        FailPending($"demoted: {reason}");
        _downstream.Clear();
        _standbyReplay.Clear();
        // Patroni restarts PostgreSQL as a replica: every replication connection to it breaks.
        Network.Bump(_name);
        ReloadSlots("role change");
        _upstream = null;
        _streaming = false;
        Become(Following);
    }

    // ---------------------------------------------------------------- replication (replica side)

    private void CheckStreaming()
    {
        if (_streaming && (_upstream is null
                           || Network.Epoch(_name) != _myEpochAtStream
                           || Network.Epoch(_upstream) != _upstreamEpochAtStream
                           || !Network.CanTalk(_name, _upstream)))
        {
            _streaming = false;
        }
    }

    private void Follow(string leader)
    {
        CheckStreaming();
        if (_upstream == leader && _streaming)
        {
            return;
        }
        _streaming = false;
        if (!Network.CanTalk(_name, leader))
        {
            return;
        }
        _upstream = leader;
        _refusals = 0;
        _peers[leader].Tell(new StreamRequest(_name, _pg.Timeline, _pg.History, _pg.EndLsn));
    }

    private void OnStreamAccepted(StreamAccepted m)
    {
        if (m.Leader != _upstream)
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
        _streaming = true;
        _refusals = 0;
        _myEpochAtStream = Network.Epoch(_name);
        _upstreamEpochAtStream = Network.Epoch(m.Leader);
        _peers[m.Leader].Tell(new Replayed(_name, _pg.EndLsn));
    }

    private void OnStreamRefused(StreamRefused m)
    {
        if (m.Leader != _upstream)
        {
            return;
        }
        if (m.RewindTo is not { } point || ++_refusals > 2)
        {
            _upstream = null;
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
        if (m.From != _upstream || !_streaming)
        {
            return;
        }
        if (Network.Epoch(m.From) != m.SenderEpoch)
        {
            // The sender died, froze or was cut off before this record left it: the replica never gets it.
            _streaming = false;
            return;
        }
        if (m.Record.Start != _pg.EndLsn)
        {
            if (m.Record.End > _pg.EndLsn)
            {
                _streaming = false;
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
        if (m.Leader != _upstream)
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
                _pg.Slots[slot] = new LogicalSlot(slot, target, isCopy: true, readyAt: Now + ModelTimings.SlotCopyReadyDelay);
                Record(ModelEventKinds.SlotCopied, $"{slot} at {target} from {m.Leader} (PostgreSQL restarted to load it)");
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

    // ---------------------------------------------------------------- replication (primary side)

    private void OnStreamRequest(StreamRequest m)
    {
        if (_pg.EndOf(m.Timeline) is { } end && m.End <= end && m.End <= _pg.EndLsn)
        {
            _downstream[m.From] = Network.Epoch(m.From);
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
        return WalSizes.Initial;
    }

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
        if (m.From == _pg.SyncStandby && _syncKeyStandby != m.From && CaughtUp(m.From)
            && _config.SynchronousMode != SynchronousMode.Off)
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
        if (mode == SynchronousMode.Off)
        {
            _pg.SyncStandby = null;
            _syncKeyStandby = null;
            AckAllPending();
            return;
        }
        var current = _pg.SyncStandby;
        string? pick = null;
        if (current is not null && HealthyDownstream(current))
        {
            pick = current;
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
        }
        // Patroni names a new synchronous standby in /sync only once it has caught up (pg_stat_replication sync_state 'sync'):
        // until then only the leader may be promoted, so no acknowledged commit can be lost by promoting a lagging standby.
        var keyStandby = pick is not null && (pick == _syncKeyStandby || CaughtUp(pick)) ? pick : null;
        _syncKeyStandby = keyStandby;
        if (view.Sync.Leader != _name || view.Sync.Standby != keyStandby)
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

    // ---------------------------------------------------------------- SQL on the primary

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

    // ---------------------------------------------------------------- Patroni's slot management

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

    // ---------------------------------------------------------------- reads

    private ImmutableArray<TimelineSwitchPoint> HistoryOf(int timeline)
    {
        if (timeline == _pg.Timeline)
        {
            return _pg.History;
        }
        return [.. _pg.History.Where(h => h.Timeline < timeline)];
    }

    private static SlotRow Row(LogicalSlot s) => new(s.Name, s.ConfirmedFlush, s.RestartLsn, s.IsCopy, s.Failover);

    private MemberInspection Inspect(bool withRows)
    {
        CheckStreaming();
        return new MemberInspection(
            _name,
            !_stopped,
            _frozen,
            Network.IsPartitioned(_name),
            _isLeader,
            _pg.IsPrimary,
            _pg.Timeline,
            _pg.History,
            _pg.EndLsn,
            _upstream,
            _streaming,
            _pg.SyncStandby,
            [.. _pg.Slots.Values.Select(Row)],
            withRows ? [.. _pg.Rows] : [],
            withRows ? _pg.Digest : "");
    }

    private sealed record PendingCommit(long RowId, Lsn Lsn, IActorRef ReplyTo);
}
