using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.Time;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;

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
public sealed partial class MemberActor : ReceiveActor
{
    private readonly string _name;
    private readonly ModelWorld _world;
    private readonly PostgresServer _pg;
    private readonly SortedDictionary<string, int> _downstream = new(StringComparer.Ordinal);

    /// <summary>When each standby's replication connection to this primary was opened (its walsender); cleared with the role.</summary>
    private readonly Dictionary<string, (long At, int ProcessEpoch)> _walSenderSince = new(StringComparer.Ordinal);
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
    private string? _slotReload;
    private string? _syncKeyStandby;
    private MemberRole _role = new(IsLeader: false, Frozen: false, Stopped: false);
    private HaLoopState _ha = HaLoopState.Idle;

    /// <summary>The bootstrap leader names its first synchronous standby at once: the cluster is handed over settled, as the real bring-up leaves it.</summary>
    private bool _syncHandedOver;

    /// <summary>Started, first HA cycle not yet done (Patroni's async executor is busy starting PostgreSQL).</summary>
    private bool _startInProgress;
    private long _demoteUntil = -1;

    /// <summary>Patroni 3.0.2: until when the async executor runs the promote task (see <c>Promote</c>); -1 none.</summary>
    private long _promoteTaskUntil = -1;

    /// <summary>Promoted (Patroni 3.0.2), the post-promote CHECKPOINT not started yet.</summary>
    private bool _checkpointAfterPromoteDue;
    private StreamState _stream = StreamState.None;

    public MemberActor(string name, ModelWorld world)
    {
        _name = name;
        _world = world;
        _config = world.InitialConfig;
        _pg = new PostgresServer(world.InitialWal);
        world.Rest[name] = () => new RestStatus(!_role.Stopped && _pg.IsPrimary, _pg.Timeline, _pg.EndLsn);
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
    private long LoopMs => _config.Timings.LoopWait * 1000L;
    private long TtlMs => _config.Timings.Ttl * 1000L;
    private long RetryMs => _config.Timings.RetryTimeout * 1000L;
    private bool Writable => !_role.Stopped && !_role.Frozen && _role.IsLeader && _pg.IsPrimary;

    private void Record(string kind, string detail = "") => _world.Record(_name, kind, detail);

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
            if (!_ha.InFlight && !_ha.Blocked)
            {
                RunCycle(woken: true);
            }
        });
        Receive<PromoteWake>(m =>
        {
            if (_role.IsLeader && _pg.IsPrimary && _pg.Timeline == m.Timeline && !_ha.InFlight && !_ha.Blocked)
            {
                RunCycle(woken: true);
            }
        });
        Receive<DcsView>(OnView);
        Receive<LeaseAnswer>(OnLeaseAnswer);
        Receive<DcsTimedOut>(OnDcsTimedOut);
        Receive<SyncStandbyNamed>(OnSyncStandbyNamed);
        Receive<RaceStatusesFetched>(OnRaceStatusesFetched);
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
            if (_ha.Blocked && !_ha.Sleeping)
            {
                RunCycle(woken: true);
            }
        });
        Receive<ReportReplay>(m =>
        {
            if (_stream.Upstream == m.Leader && _stream.Streaming)
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

    private void OnBootstrap(BootstrapMember m)
    {
        if (m.Leader == _name)
        {
            _pg.IsPrimary = true;
            _role = _role with { IsLeader = true };
            _ha = _ha with { LeaseDeadline = Now + TtlMs };
            Become(Leading);
            // The cluster is handed over settled: the bootstrap leader already has its replicas' physical slots.
            _physicalSlots = [.. _config.MemberNames.Where(n => n != _name)];
            _seenMemberKeys = _physicalSlots;
            _syncHandedOver = true;
            Record(ModelEventKinds.Started, "bootstrap: primary");
            Record(ModelEventKinds.Writable, $"tl {_pg.Timeline}");
            // The bring-up ends once every member streams: Patroni created the permanent slots many cycles before that,
            // and the reload their creation scheduled is long done (campaign seed 20261205 PostgreSQL 15 #47).
            EnsurePermanentSlots();
            _slotReload = null;
            _knownPermanent = _config.PermanentSlots;
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
        _role = _role with { Stopped = true, Frozen = false };
        FailPending("connection lost: the server was killed");
        Record(ModelEventKinds.Killed, $"tl{_pg.Timeline} at {_pg.EndLsn}");
        _downstream.Clear();
        _walSenderSince.Clear();
        _stream = _stream with { Upstream = null, Streaming = false };
        Become(Stopped);
    }

    private void OnStart()
    {
        _role = _role with { Stopped = false };
        _pg.IsPrimary = false;
        _pg.SyncStandby = null;
        _role = _role with { IsLeader = false };
        Record(ModelEventKinds.Started, $"tl{_pg.Timeline} at {_pg.EndLsn} (crash recovery, in recovery until Patroni decides)");
        BecomeStandbySlots("start");
        _startInProgress = true;
        Become(Following);
        ScheduleTick(ModelTimings.StartupDelay);
    }

    private void OnFreeze()
    {
        var wasWritable = Writable;
        CancelHa();
        _role = _role with { Frozen = true };
        Record(ModelEventKinds.Frozen, _role.IsLeader ? "leader" : "replica");
        if (wasWritable)
        {
            Record(ModelEventKinds.ReadOnly, "frozen");
        }
        Become(Frozen);
    }

    private void OnThaw()
    {
        _role = _role with { Frozen = false };
        Record(ModelEventKinds.Thawed, _role.IsLeader ? "believes it is the leader" : "replica");
        if (Writable)
        {
            Record(ModelEventKinds.Writable, $"tl {_pg.Timeline} (thawed; its HA loop has not looked at the DCS yet)");
        }
        if (_role.IsLeader)
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
            _walSenderSince.Clear();
        }
        Network.Bump(_name);
        _stream = _stream with { Streaming = false };
        // The async executor wakes the HA loop as soon as the restart ends (async_executor.py run: ha_wakeup), and the
        // restart scheduled a reload (PostgreSQL reached 'running'): that cycle's slot pass drops the unknown slots at once.
        ReloadSlots("restart");
        if (_pg.IsPrimary && _role.IsLeader)
        {
            EnsurePermanentSlots();
        }
    }

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
            !_role.Stopped,
            _role.Frozen,
            Network.IsPartitioned(_name),
            _role.IsLeader,
            _pg.IsPrimary,
            _pg.Timeline,
            _pg.History,
            _pg.EndLsn,
            _stream.Upstream,
            // (a member still demoting restarts PostgreSQL as a replica: it streams once that is done, so a settle waits)
            _stream.Streaming && Now >= _demoteUntil,
            _pg.SyncStandby,
            [.. _pg.Slots.Values.Select(Row)],
            withRows ? _pg.Rows : RowIds.Empty,
            withRows ? _pg.Digest : "")
        {
            PhysicalSlots = _role.IsLeader ? _physicalSlots ?? [] : [],
            StartInProgress = _startInProgress && !_role.Stopped,
            DemoteInProgress = Now < _demoteUntil && !_role.Stopped,
            PromoteInProgress = PromoteTaskRunning && !_role.Stopped,
        };
    }

    private sealed record PendingCommit(long RowId, Lsn Lsn, IActorRef ReplyTo);
}
