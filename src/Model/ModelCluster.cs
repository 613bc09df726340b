using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.Runtime;
using PatroniModel.Model.World;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using CreateSlotStep = PatroniModel.Scenarios.Faults.CreateSlot;
using Kill = PatroniModel.Scenarios.Faults.Kill;
using DropSlotStep = PatroniModel.Scenarios.Faults.DropSlot;

namespace PatroniModel.Model;

/// <summary>
/// A simulated Patroni cluster: the DCS, one actor per member (Patroni + PostgreSQL), the client and the consumer, on
/// virtual time. <see cref="Apply"/> runs one step of the fault vocabulary synchronously, running the clock as far as the
/// step needs (a write of N rows takes N x <see cref="ModelTimings.WriteInterval"/>, a switchover until the new leader is
/// writable, settle until the cluster is stable). The same steps and seed give the same trace and observations, byte for byte.
/// </summary>
public sealed partial class ModelCluster : ICluster, IDisposable
{
    /// <summary>The seed every replay, exploration and conformance run builds its model clusters with.</summary>
    public const int DefaultSeed = 1;

    private readonly ModelRuntime _runtime;
    private readonly ModelWorld _world;
    private readonly ClusterWiring _wiring = new();
    private readonly ReplyBox _box = new();
    private readonly IActorRef _root;
    private readonly ImmutableArray<string> _names;
    private readonly Dictionary<string, LostRows> _lostByMember = new(StringComparer.Ordinal);
    private ISlotReconciler? _reconciler;
    private bool _disposed;

    internal ModelCluster(ModelRuntime runtime, ClusterConfig config, int seed, ModelOptions options)
    {
        _runtime = runtime;
        Config = config;
        Seed = seed;
        Options = options;
        _world = new ModelWorld(config, seed, options);
        _names = [.. config.MemberNames];
        _root = runtime.CreateRoot(ClusterRoot.Props(_world, _wiring, _box));
        Endpoint = new ModelEndpoint(this);
        Bootstrap();
    }

    public ClusterConfig Config { get; private set; }

    public int Seed { get; }

    public ModelOptions Options { get; }

    /// <summary>Serves the reconciler: Patroni's REST view and a session on a member's PostgreSQL. Every Task completes synchronously.</summary>
    public IPatroniEndpoint Endpoint { get; }

    /// <summary>Virtual milliseconds since the cluster was built.</summary>
    public long NowMilliseconds => _world.Now;

    /// <summary>Everything that happened, in order.</summary>
    public IReadOnlyList<ModelEvent> Trace => _world.Trace.Events;

    /// <summary>Timers the virtual clock delivered (a cost measure).</summary>
    public long DeliveredTimers => _world.Clock.Delivered;

    /// <summary>The trace, one event per line.</summary>
    public string TraceText() => _world.Trace.ToText();

    internal ModelNetwork Network => _world.Network;

    // ---------------------------------------------------------------- ICluster

    public Task<StepResult> ApplyAsync(Step step, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Apply(step));
    }

    public Task<Observation> ObserveAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Observe());
    }

    /// <summary>Applies one step; refused and failed steps are results, a model bug is an exception.</summary>
    public StepResult Apply(Step step)
    {
        ArgumentNullException.ThrowIfNull(step);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfActorFailed();
        var result = step switch
        {
            CreateSlotStep s => CreateSlot(s),
            DropSlotStep s => DropSlot(s),
            Write s => WriteRows(s),
            Consume s => Consume(s),
            AdvanceWal s => AppendToLeader(s, WalKind.Message, s.Bytes),
            Checkpoint s => AppendToLeader(s, WalKind.Checkpoint, WalSizes.Checkpoint),
            Switchover s => Switchover(s),
            Failover s => Failover(s),
            Kill s => Nemesis(s),
            Start s => Nemesis(s),
            Freeze s => Nemesis(s),
            Thaw s => Nemesis(s),
            Partition s => Nemesis(s),
            Heal s => Nemesis(s),
            Restart s => Restart(s),
            PatchConfig s => PatchConfig(s),
            Reconcile s => Reconcile(s),
            Settle s => Settle(s),
            Wait s => WaitStep(s),
            _ => StepResult.Refused(step, $"the model does not know the step kind '{step.Kind}'"),
        };
        ThrowIfActorFailed();
        return result;
    }

    /// <summary>A snapshot of every member, the consumer and the client.</summary>
    public Observation Observe()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfActorFailed();
        var view = ReadDcs();
        var leader = view.Lease?.Holder;
        var members = ImmutableArray.CreateBuilder<MemberObservation>(_names.Length);
        MemberInspection? leaderInspection = null;
        foreach (var name in _names)
        {
            var m = Inspect(name, withRows: true);
            if (name == leader)
            {
                leaderInspection = m;
            }
            members.Add(ToObservation(m, leader));
        }
        var client = Query<ClientInspection>(_wiring.Client, InspectClient.Instance)!;
        var consumer = Query<ConsumerInspection>(_wiring.Consumer, InspectConsumer.Instance)!;
        var lost = leaderInspection is null ? [] : LostOn(leaderInspection, client.Acknowledged);
        return new Observation(_world.Now, leader, members.MoveToImmutable(), consumer.Positions, client.Acknowledged.Count, lost);
    }

    /// <summary>
    /// The acknowledged row ids <paramref name="leader"/> does not hold, in id order. Each member's answer is remembered: while
    /// its rows and the acknowledged ids only grew since, only the ids acknowledged since and the ones missing then are looked
    /// up again, so observing after every step of a long run stays linear in its length.
    /// </summary>
    private ImmutableArray<long> LostOn(MemberInspection leader, RowIds acknowledged)
    {
        var missing = new List<long>();
        var from = 0;
        if (_lostByMember.TryGetValue(leader.Name, out var known) && known.Rows.IsPrefixOf(leader.Rows) && known.Acknowledged.IsPrefixOf(acknowledged))
        {
            missing.AddRange(known.Lost.Where(id => !leader.Rows.Contains(id)));
            from = known.Acknowledged.Count;
        }
        for (var i = from; i < acknowledged.Count; i++)
        {
            if (!leader.Rows.Contains(acknowledged[i]))
            {
                missing.Add(acknowledged[i]);
            }
        }
        ImmutableArray<long> lost = [.. missing.Order()];
        _lostByMember[leader.Name] = new LostRows(leader.Rows, acknowledged, lost);
        return lost;
    }

    /// <summary>The internal state of every member (for invariant checks and tests).</summary>
    public IReadOnlyList<MemberInspection> InspectMembers() => [.. _names.Select(n => Inspect(n, withRows: true))];

    /// <summary>The DCS as it stands (leader key, sync key, history).</summary>
    public DcsView Dcs => ReadDcs();

    /// <summary>
    /// Which replica wins a leader race is a choice reality makes (HA loop timing); the model makes it with its seed. Set this to
    /// follow reality's choice (the conformance runner does): while the member is reachable, only it races for a free lease,
    /// skipping the "healthiest node" comparison but not the lag and synchronous-mode checks. Null (the default) lets the seed decide.
    /// </summary>
    public string? PreferredCandidate
    {
        get => _world.PreferredCandidate;
        set => _world.PreferredCandidate = value;
    }

    /// <summary>
    /// Which replica becomes synchronous standby is a choice reality makes too: Patroni sorts pg_stat_replication by
    /// (sync_state, flush LSN), and equal replicas stay in walsender order, the order in which they connected. The model
    /// picks the first healthy replica by name; set this to follow reality's choice (the conformance runner does): when the
    /// leader picks a synchronous standby and this member is a healthy candidate, it is picked. The current synchronous
    /// standby is kept while healthy, as Patroni keeps it. Null (the default) picks by name.
    /// </summary>
    public string? PreferredSyncStandby
    {
        get => _world.PreferredSyncStandby;
        set => _world.PreferredSyncStandby = value;
    }

    /// <summary>The member holding the leader key, if any (cheaper than <see cref="Observe"/>).</summary>
    public string? Leader => ReadDcs().Lease?.Holder;

    /// <summary>What has been done to a member's process or network (cheaper than <see cref="Observe"/>).</summary>
    public MemberState StateOf(string member) => FaultsOf(member).State;

    /// <summary>The row ids whose commit the client saw acknowledged.</summary>
    public ImmutableArray<long> Acknowledged => [.. Query<ClientInspection>(_wiring.Client, InspectClient.Instance)!.Acknowledged];

    /// <summary>Lets virtual time pass (the same as a Wait step, in milliseconds).</summary>
    public void Advance(long milliseconds)
    {
        _world.Clock.Advance(milliseconds);
        ThrowIfActorFailed();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _runtime.StopRoot(_root);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    // ---------------------------------------------------------------- plumbing

    internal T? Query<T>(IActorRef target, object message) where T : class
    {
        _box.Clear();
        target.Tell(message, _wiring.Sink);
        var answer = _box.Take<T>();
        _box.Clear();
        return answer;
    }

    internal DcsView ReadDcs() => Query<DcsView>(_wiring.Dcs, Protocol.ReadDcs.Instance)!;

    internal MemberInspection Inspect(string name, bool withRows = false) =>
        Query<MemberInspection>(_wiring.Members[name], withRows ? InspectMember.Full : InspectMember.Status)!;

    internal IActorRef MemberRef(string name) => _wiring.Members[name];

    internal bool HasMember(string name) => _wiring.Members.ContainsKey(name);

    private void ThrowIfActorFailed()
    {
        if (_world.Failure is { } failure)
        {
            throw new InvalidOperationException($"a model actor failed: {failure.Message}", failure);
        }
    }

    private void Bootstrap()
    {
        const string leader = "pg1";
        _wiring.Dcs.Tell(new BootstrapDcs(leader, [.. _names.Select(n => _wiring.Members[n])], _names));
        _world.Record(leader, ModelEventKinds.LeaseAcquired, $"bootstrap ttl={Config.Ttl}s");
        var loopMs = Config.LoopWait * 1000;
        _wiring.Members[leader].Tell(new BootstrapMember(leader, loopMs));
        foreach (var name in _names.Where(n => n != leader))
        {
            var phase = _world.Random.Next(1, Config.LoopWait * 10 + 1) * 100L;
            _wiring.Members[name].Tell(new BootstrapMember(leader, phase));
        }
        _wiring.Members[leader].Tell(new WakeUp("bootstrap"));
        if (!Config.PermanentSlots.IsDefaultOrEmpty)
        {
            // The cluster is handed over settled, as the real bring-up leaves it: replicas hold ready copies of the
            // permanent slots the bootstrap leader created.
            foreach (var name in _names.Where(n => n != leader))
            {
                _wiring.Members[leader].Tell(new SlotSyncRequest(name, Bootstrap: true), _wiring.Members[name]);
            }
        }
        ThrowIfActorFailed();
    }

    private bool Reachable(string member) => _world.Network.IsReachable(member);

    /// <summary>The lease holder when it answers and runs as a primary: where the client's SQL for the leader goes.</summary>
    private string? LeaderForSql(out string why)
    {
        var holder = ReadDcs().Lease?.Holder;
        if (holder is null)
        {
            why = "no leader";
            return null;
        }
        if (!Reachable(holder))
        {
            why = $"the leader {holder} does not answer ({Describe(holder)})";
            return null;
        }
        if (!Inspect(holder).Writable)
        {
            why = $"the leader {holder} is not writable";
            return null;
        }
        why = "";
        return holder;
    }

    private string Describe(string member) => FaultsOf(member).Describe();

    private StepResult? UnknownMember(Step step, string member) =>
        HasMember(member) ? null : StepResult.Refused(step, $"no member {member} (members: {string.Join(',', _names)})");

    private static MemberObservation ToObservation(MemberInspection m, string? leader)
    {
        var state = new MemberFaults(!m.Running, m.Frozen, m.Partitioned).State;
        var role = !m.Running ? MemberRole.Unknown
            : m.IsLeaderRole && m.IsPrimary ? MemberRole.Leader
            : MemberRole.Replica;
        var readable = state == MemberState.Running;
        var streaming = role == MemberRole.Replica && m.Streaming && m.Upstream == leader && leader is not null;
        return new MemberObservation(
            m.Name,
            role,
            state,
            m.Timeline,
            m.EndLsn,
            m.Writable,
            streaming,
            [.. m.Slots.Select(s => new SlotObservation(s.Slot, s.ConfirmedFlush, s.RestartLsn))],
            readable ? m.Digest : "",
            readable ? m.Rows.Count : 0);
    }

    /// <summary>What <see cref="LostOn"/> found on one member: its rows and the acknowledged ids then, and the ones it lacked.</summary>
    private sealed record LostRows(RowIds Rows, RowIds Acknowledged, ImmutableArray<long> Lost);
}
