using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.Time;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Dcs;

/// <summary>
/// The DCS (etcd's part in Patroni): the leader key with a TTL written by compare-and-swap, member keys, the dynamic
/// configuration, the <c>/sync</c> and <c>/failover</c> keys, and the history of leader changes.
/// Members that are cut off never reach it (they see it through <see cref="ModelNetwork"/> and time out).
/// </summary>
public sealed class DcsActor : ReceiveActor
{
    private const string Name = "dcs";
    private readonly ModelWorld _world;
    private readonly SortedDictionary<string, MemberKey> _members = new(StringComparer.Ordinal);
    private ClusterConfig _config;
    private LeaderLease? _lease;
    private long _leaseGeneration;
    private VirtualClock.Timer? _leaseTimer;
    private Lsn _optime;
    private SyncKey _sync = SyncKey.Empty;
    private FailoverKey? _failover;
    private ImmutableArray<TimelineHistoryEntry> _history = [];
    private string? _lastLeader;
    private ImmutableArray<IActorRef> _watchers = [];
    private ImmutableArray<string> _watcherNames = [];

    public DcsActor(ModelWorld world)
    {
        _world = world;
        _config = world.InitialConfig;
        _optime = world.InitialWal;
        Receive<HaCycle>(OnHaCycle);
        Receive<AcquireLease>(OnAcquire);
        Receive<ReleaseLease>(OnRelease);
        Receive<LeaseTtlElapsed>(OnTtlElapsed);
        Receive<SetSyncKey>(m => _sync = new SyncKey(m.Leader, m.Standby));
        Receive<RecordPromotion>(m => _history = _history.Add(new TimelineHistoryEntry(m.Timeline, m.Fork, m.Member, _world.Now)));
        Receive<SetFailoverKey>(m => _failover = m.Key);
        Receive<PatchDynamicConfig>(OnPatch);
        Receive<ReadDcs>(_ => Sender.Tell(View(false)));
        Receive<BootstrapDcs>(OnBootstrap);
    }

    public static Props Props(ModelWorld world) => ActorFactory<DcsActor>.Props(() => new DcsActor(world));

    private long Now => _world.Now;

    private void OnBootstrap(BootstrapDcs m)
    {
        _watchers = m.Watchers;
        _watcherNames = m.WatcherNames;
        SetLease(m.Leader);
        // The cluster is handed over settled, as the real bring-up leaves it: every member has published its key.
        foreach (var name in m.WatcherNames)
        {
            var leader = name == m.Leader;
            _members[name] = new MemberKey(name, leader ? "leader" : "replica", leader ? "running" : "streaming", 1,
                _world.InitialWal, Now + _config.Timings.Ttl * 1000L);
        }
        if (_config.SynchronousMode != SynchronousMode.Off)
        {
            _sync = new SyncKey(m.Leader, null);
        }
    }

    private void OnHaCycle(HaCycle m)
    {
        var s = m.Status;
        var ttlMs = _config.Timings.Ttl * 1000L;
        _members[s.Name] = new MemberKey(
            s.Name, s.IsLeader ? "leader" : "replica", s.Streaming ? "streaming" : "running", s.Timeline, s.Lsn, Now + ttlMs);
        var renewed = false;
        var lease = CurrentLease();
        if (s.IsLeader && lease is not null && lease.Holder == s.Name)
        {
            SetLease(s.Name);
            _optime = s.Lsn;
            renewed = true;
        }
        Sender.Tell(View(renewed));
    }

    private void OnAcquire(AcquireLease m)
    {
        var lease = CurrentLease();
        if (lease is not null && lease.Holder != m.Member)
        {
            Sender.Tell(new LeaseAnswer(false, View(false)));
            return;
        }
        var fresh = lease is null;
        SetLease(m.Member);
        if (fresh)
        {
            _world.Record(m.Member, ModelEventKinds.LeaseAcquired, $"ttl={_config.Timings.Ttl}s");
        }
        if (_failover is { } fk && (fk.Candidate is null || fk.Candidate == m.Member))
        {
            _failover = null;
        }
        if (_config.SynchronousMode != SynchronousMode.Off && _sync.Leader != m.Member)
        {
            _sync = new SyncKey(m.Member, null);
        }
        Sender.Tell(new LeaseAnswer(true, View(true)));
    }

    private void OnRelease(ReleaseLease m)
    {
        if (CurrentLease() is { } lease && lease.Holder == m.Member)
        {
            ExpireLease($"released by {m.Member}: {m.Reason}");
            if (_members.TryGetValue(m.Member, out var key))
            {
                _members[m.Member] = key with { Role = "replica", State = "running" };
            }
            for (var i = 0; i < _watchers.Length; i++)
            {
                if (_watcherNames[i] != m.Member && _world.Network.IsReachable(_watcherNames[i]))
                {
                    _watchers[i].Tell(new WakeUp("leader key deleted"));
                }
            }
        }
    }

    private void OnTtlElapsed(LeaseTtlElapsed m)
    {
        if (m.Generation == _leaseGeneration && _lease is not null)
        {
            var holder = _lease.Holder;
            ExpireLease($"ttl elapsed (holder {holder})");
            // A replica sleeps in an etcd watch on the leader key, which the expiry ends (etcd.py watch); with loop_wait 1
            // the time left to sleep is under the 1 s it needs to open one, so it just sleeps. Which woken replica reads
            // the cluster first is a race: each wakes after a seeded delay of its own.
            if (_config.Timings.LoopWait >= 2)
            {
                for (var i = 0; i < _watchers.Length; i++)
                {
                    if (_watcherNames[i] != holder && _world.Network.IsReachable(_watcherNames[i]))
                    {
                        _world.Clock.Schedule(_world.Random.Next(1, ModelTimings.WatchWakeJitter + 1), _watchers[i], new WakeUp("leader key expired"));
                    }
                }
            }
        }
    }

    private void OnPatch(PatchDynamicConfig m)
    {
        // Only /config changes: the leader writes or deletes /sync in its own sync pass (ha.py process_sync_replication).
        _config = m.Config;
        Sender.Tell(View(false));
        for (var i = 0; i < _watchers.Length; i++)
        {
            if (_world.Network.IsReachable(_watcherNames[i]))
            {
                _watchers[i].Tell(new WakeUp("dynamic configuration changed"));
            }
        }
    }

    /// <summary>The lease if it is still alive; an expired one is deleted (and recorded) first.</summary>
    private LeaderLease? CurrentLease()
    {
        if (_lease is not null && Now >= _lease.ExpiresAt)
        {
            ExpireLease($"ttl elapsed (holder {_lease.Holder})");
        }
        return _lease;
    }

    private void SetLease(string holder)
    {
        _leaseTimer?.Cancel();
        _leaseGeneration++;
        var ttlMs = _config.Timings.Ttl * 1000L;
        _lease = new LeaderLease(holder, Now + ttlMs);
        _leaseTimer = _world.Clock.Schedule(ttlMs, Self, new LeaseTtlElapsed(_leaseGeneration));
    }

    private void ExpireLease(string detail)
    {
        if (_lease is null)
        {
            return;
        }
        _world.Record(_lease.Holder, ModelEventKinds.LeaseExpired, detail);
        _lastLeader = _lease.Holder;
        _lease = null;
        _leaseTimer?.Cancel();
        _leaseTimer = null;
        _leaseGeneration++;
    }

    private DcsView View(bool renewed)
    {
        var members = ImmutableArray.CreateBuilder<MemberKey>(_members.Count);
        foreach (var key in _members.Values)
        {
            if (key.ExpiresAt > Now)
            {
                members.Add(key);
            }
        }
        return new DcsView(Now, _config, CurrentLease(), _optime, members.ToImmutable(), _sync, _failover, _history, _lastLeader, renewed);
    }
}
