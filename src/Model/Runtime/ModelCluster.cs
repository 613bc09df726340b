using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Consumer.Reconciling;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Runtime;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;
using CreateSlotStep = PatroniModel.Scenarios.Faults.CreateSlot;
using Kill = PatroniModel.Scenarios.Faults.Kill;
using DropSlotStep = PatroniModel.Scenarios.Faults.DropSlot;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.World;

namespace PatroniModel.Model;

/// <summary>
/// A simulated Patroni cluster: the DCS, one actor per member (Patroni + PostgreSQL), the client and the consumer, on
/// virtual time. <see cref="Apply"/> runs one step of the fault vocabulary synchronously, running the clock as far as the
/// step needs (a write of N rows takes N x <see cref="ModelTimings.WriteInterval"/>, a switchover until the new leader is
/// writable, settle until the cluster is stable). The same steps and seed give the same trace and observations, byte for byte.
/// </summary>
public sealed class ModelCluster : ICluster, IDisposable
{
    private readonly ModelRuntime _runtime;
    private readonly ModelWorld _world;
    private readonly ClusterWiring _wiring = new();
    private readonly ReplyBox _box = new();
    private readonly IActorRef _root;
    private readonly ImmutableArray<string> _names;
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
            Kill s => Kill(s),
            Start s => Start(s),
            Freeze s => Freeze(s),
            Thaw s => Thaw(s),
            Partition s => Partition(s),
            Heal s => Heal(s),
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
        var lost = ImmutableArray<long>.Empty;
        if (leaderInspection is not null)
        {
            var onLeader = leaderInspection.Rows.ToHashSet();
            lost = [.. client.Acknowledged.Where(id => !onLeader.Contains(id)).Order()];
        }
        return new Observation(_world.Now, leader, members.MoveToImmutable(), consumer.Positions, client.Acknowledged.Length, lost);
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

    /// <summary>The member holding the leader key, if any (cheaper than <see cref="Observe"/>).</summary>
    public string? Leader => ReadDcs().Lease?.Holder;

    /// <summary>What has been done to a member's process or network (cheaper than <see cref="Observe"/>).</summary>
    public MemberState StateOf(string member) =>
        !_world.Network.IsRunning(member) ? MemberState.Stopped
        : _world.Network.IsFrozen(member) ? MemberState.Frozen
        : _world.Network.IsPartitioned(member) ? MemberState.Partitioned
        : MemberState.Running;

    /// <summary>The row ids whose commit the client saw acknowledged.</summary>
    public ImmutableArray<long> Acknowledged => Query<ClientInspection>(_wiring.Client, InspectClient.Instance)!.Acknowledged;

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

    internal DcsView ReadDcs() => Query<DcsView>(_wiring.Dcs, PatroniModel.Model.Protocol.ReadDcs.Instance)!;

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

    private string Describe(string member) =>
        !_world.Network.IsRunning(member) ? "stopped"
        : _world.Network.IsFrozen(member) ? "frozen"
        : _world.Network.IsPartitioned(member) ? "partitioned"
        : "running";

    private StepResult? UnknownMember(Step step, string member) =>
        HasMember(member) ? null : StepResult.Refused(step, $"no member {member} (members: {string.Join(',', _names)})");

    private static MemberObservation ToObservation(MemberInspection m, string? leader)
    {
        var state = !m.Running ? MemberState.Stopped
            : m.Frozen ? MemberState.Frozen
            : m.Partitioned ? MemberState.Partitioned
            : MemberState.Running;
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
            readable ? m.Rows.Length : 0);
    }

    // ---------------------------------------------------------------- steps

    private StepResult CreateSlot(CreateSlotStep step)
    {
        if (!SlotDefaults.IsValidSlotName(step.SlotName))
        {
            return StepResult.Refused(step, $"invalid slot name '{step.SlotName}' ({SlotDefaults.SlotNameRule})");
        }
        if (LeaderForSql(out var why) is not { } leader)
        {
            return StepResult.Refused(step, why);
        }
        if (Query<SlotAnswer>(MemberRef(leader), new FindSlot(step.SlotName))?.Slot is not null)
        {
            return StepResult.Refused(step, $"replication slot \"{step.SlotName}\" already exists on {leader}");
        }
        if (!step.Permanent)
        {
            var answer = Query<MemberAnswer>(MemberRef(leader), new CreateLogicalSlot(step.SlotName, "the client"))!;
            if (answer.Ok)
            {
                PersistConsumerAt(step.SlotName, leader, "created its slot");
            }
            return answer.Ok ? StepResult.Ok(step, answer.Detail) : StepResult.Refused(step, answer.Detail);
        }
        if (Config.PermanentSlots.Contains(step.SlotName))
        {
            return StepResult.Refused(step, $"{step.SlotName} is already a permanent slot (Patroni re-creates it on its next cycle)");
        }
        PatchDynamicConfig(Config with { PermanentSlots = Config.PermanentSlots.Add(step.SlotName) }, $"permanent_slots += {step.SlotName}");
        var created = Query<SlotAnswer>(MemberRef(leader), new FindSlot(step.SlotName))?.Slot;
        if (created is null)
        {
            return StepResult.Failed(step, $"declared permanent, but Patroni has not created it on {leader} yet");
        }
        PersistConsumerAt(step.SlotName, leader, "created its slot");
        return StepResult.Ok(step, $"{step.SlotName} at {created.ConfirmedFlush} on {leader} (permanent)");
    }

    /// <summary>The consumer persists the slot's position on <paramref name="member"/> (where it starts reading from).</summary>
    private void PersistConsumerAt(string slot, string member, string why)
    {
        if (Query<SlotAnswer>(MemberRef(member), new FindSlot(slot))?.Slot is { } found)
        {
            _wiring.Consumer.Tell(new PersistPosition(new ConsumerPosition(slot, found.ConfirmedFlush, Inspect(member).Timeline), why));
        }
    }

    private StepResult DropSlot(DropSlotStep step)
    {
        if (LeaderForSql(out var why) is not { } leader)
        {
            return StepResult.Refused(step, why);
        }
        var onLeader = Query<SlotAnswer>(MemberRef(leader), new FindSlot(step.SlotName))?.Slot;
        var permanent = Config.PermanentSlots.Contains(step.SlotName);
        if (onLeader is null && !permanent)
        {
            return StepResult.Refused(step, $"replication slot \"{step.SlotName}\" does not exist on {leader}");
        }
        if (permanent)
        {
            PatchDynamicConfig(Config with { PermanentSlots = Config.PermanentSlots.Remove(step.SlotName) }, $"permanent_slots -= {step.SlotName}");
        }
        if (Query<SlotAnswer>(MemberRef(leader), new FindSlot(step.SlotName))?.Slot is not null)
        {
            Query<MemberAnswer>(MemberRef(leader), new DropLogicalSlot(step.SlotName, "dropped by the client"));
        }
        return StepResult.Ok(step, $"{step.SlotName} dropped on {leader}" + (permanent ? " and from the permanent slots" : ""));
    }

    private StepResult WriteRows(Write step)
    {
        if (step.Rows <= 0)
        {
            return StepResult.Refused(step, $"rows must be positive, got {step.Rows}");
        }
        _box.Clear();
        _wiring.Client.Tell(new WriteRows(step.Rows, _wiring.Sink));
        var deadline = _world.Now + step.Rows * (ModelTimings.CommitTimeout + ModelTimings.WriteInterval) + 1_000;
        WriteBatchDone? done = _box.Take<WriteBatchDone>();
        if (done is null)
        {
            _world.Clock.RunUntil(deadline, () => (done = _box.Take<WriteBatchDone>()) is not null);
        }
        _box.Clear();
        if (done is null)
        {
            throw new InvalidOperationException($"the client did not finish writing {step.Rows} rows by t={deadline}");
        }
        return done.Failed == 0 ? StepResult.Ok(step, done.Detail) : StepResult.Failed(step, done.Detail);
    }

    private StepResult Consume(Consume step)
    {
        var holder = ReadDcs().Lease?.Holder;
        if (holder is null)
        {
            return StepResult.Refused(step, "no leader");
        }
        if (!Reachable(holder))
        {
            return StepResult.Refused(step, $"the leader {holder} does not answer ({Describe(holder)})");
        }
        // On PostgreSQL 17 with synchronized_standby_slots, pg_logical_slot_get_changes on a failover slot first waits until
        // every listed standby confirmed the end of WAL (WaitForStandbyConfirmation): the step waits as long as the real one.
        var deadline = _world.Now + ModelTimings.ConsumeWaitTimeout;
        while (true)
        {
            _box.Clear();
            _wiring.Consumer.Tell(new ConsumeOn(step.SlotName, MemberRef(holder), _wiring.Sink));
            if (_box.Take<SlotConsumed>() is { } consumed)
            {
                _box.Clear();
                return StepResult.Ok(step, $"confirmed {consumed.Lsn} on {consumed.Member} tl{consumed.Timeline}");
            }
            var refused = _box.Take<MemberAnswer>();
            _box.Clear();
            if (refused is { WaitingForStandbys: true } && _world.Now < deadline)
            {
                _world.Clock.RunUntil(Math.Min(deadline, _world.Now + ModelTimings.WriteInterval));
                ThrowIfActorFailed();
                if (ReadDcs().Lease?.Holder == holder && Reachable(holder))
                {
                    continue;
                }
            }
            return StepResult.Refused(step, refused?.Detail ?? $"{holder} did not answer");
        }
    }

    private StepResult AppendToLeader(Step step, WalKind kind, long bytes)
    {
        if (bytes <= 0)
        {
            return StepResult.Refused(step, $"bytes must be positive, got {bytes}");
        }
        if (LeaderForSql(out var why) is not { } leader)
        {
            return StepResult.Refused(step, why);
        }
        var answer = Query<MemberAnswer>(MemberRef(leader), new AppendWal(kind, bytes))!;
        return answer.Ok ? StepResult.Ok(step, answer.Detail) : StepResult.Refused(step, answer.Detail);
    }

    private List<string> HealthyCandidates(string leader, DcsView view)
    {
        var candidates = new List<string>();
        foreach (var name in _names)
        {
            if (name == leader || !Reachable(name))
            {
                continue;
            }
            var m = Inspect(name);
            if (m.IsPrimary || !m.Streaming || m.Upstream != leader)
            {
                continue;
            }
            if (Config.SynchronousMode != SynchronousMode.Off && view.Sync.Standby != name)
            {
                continue;
            }
            candidates.Add(name);
        }
        return candidates;
    }

    private StepResult Switchover(Switchover step)
    {
        if (UnknownMember(step, step.From) is { } unknown)
        {
            return unknown;
        }
        if (step.To is not null && UnknownMember(step, step.To) is { } unknownTo)
        {
            return unknownTo;
        }
        var view = ReadDcs();
        var holder = view.Lease?.Holder;
        if (holder != step.From)
        {
            return StepResult.Refused(step, $"{step.From} is not the leader (leader: {holder ?? "none"})");
        }
        if (!Reachable(step.From))
        {
            return StepResult.Refused(step, $"{step.From} does not answer ({Describe(step.From)})");
        }
        var candidates = HealthyCandidates(step.From, view);
        if (step.To is not null && !candidates.Contains(step.To))
        {
            return StepResult.Refused(step, step.To == step.From
                ? $"{step.To} is already the leader"
                : $"{step.To} is not a healthy candidate (candidates: {string.Join(',', candidates)})");
        }
        if (candidates.Count == 0)
        {
            return StepResult.Refused(step, "no healthy candidate for a switchover");
        }
        return RunManualFailover(step, new FailoverKey(step.From, step.To), step.From, step.From);
    }

    private StepResult Failover(Failover step)
    {
        if (UnknownMember(step, step.To) is { } unknown)
        {
            return unknown;
        }
        var view = ReadDcs();
        var holder = view.Lease?.Holder;
        if (holder == step.To)
        {
            return StepResult.Refused(step, $"{step.To} is already the leader");
        }
        if (!Reachable(step.To))
        {
            return StepResult.Refused(step, $"{step.To} is not healthy ({Describe(step.To)})");
        }
        if (Config.SynchronousMode != SynchronousMode.Off && !view.Sync.Matches(step.To))
        {
            return StepResult.Refused(step, $"{step.To} is not the synchronous standby ({view.Sync.Standby ?? "none"})");
        }
        if (holder is not null && Reachable(holder) && !HealthyCandidates(holder, view).Contains(step.To))
        {
            return StepResult.Refused(step, $"{step.To} is not streaming from the leader {holder}");
        }
        var wake = holder is not null && Reachable(holder) ? holder : step.To;
        return RunManualFailover(step, new FailoverKey(holder, step.To), wake, holder);
    }

    private StepResult RunManualFailover(Step step, FailoverKey key, string wake, string? from)
    {
        var start = _world.Now;
        var mark = _world.Trace.Events.Count;
        _wiring.Dcs.Tell(new SetFailoverKey(key));
        _wiring.Members[wake].Tell(new WakeUp(step.Kind));
        string? promoted = null;
        bool Done()
        {
            var events = _world.Trace.Events;
            for (var i = mark; i < events.Count; i++)
            {
                if (events[i].Kind == ModelEventKinds.Promoted && (key.Candidate is null || events[i].Member == key.Candidate))
                {
                    promoted = events[i].Member;
                    return true;
                }
            }
            mark = events.Count;
            return false;
        }
        if (!Done())
        {
            _world.Clock.RunUntil(_world.Now + ModelTimings.SwitchoverTimeout, Done);
        }
        if (promoted is null)
        {
            _wiring.Dcs.Tell(new SetFailoverKey(null));
            var holder = ReadDcs().Lease?.Holder;
            return StepResult.Failed(step, $"no promotion within {ModelTimings.SwitchoverTimeout} ms (leader now: {holder ?? "none"})");
        }
        return StepResult.Ok(step, $"{from ?? "no leader"} -> {promoted} in {_world.Now - start} ms");
    }

    private StepResult Kill(Kill step)
    {
        if (UnknownMember(step, step.Member) is { } unknown)
        {
            return unknown;
        }
        if (!_world.Network.IsRunning(step.Member))
        {
            return StepResult.Refused(step, $"{step.Member} is already stopped");
        }
        _world.Network.SetFrozen(step.Member, false);
        _world.Network.SetRunning(step.Member, false);
        MemberRef(step.Member).Tell(new KillProcess());
        return StepResult.Ok(step);
    }

    private StepResult Start(Start step)
    {
        if (UnknownMember(step, step.Member) is { } unknown)
        {
            return unknown;
        }
        if (_world.Network.IsRunning(step.Member))
        {
            return StepResult.Refused(step, $"{step.Member} is already running ({Describe(step.Member)})");
        }
        _world.Network.SetRunning(step.Member, true);
        MemberRef(step.Member).Tell(new StartProcess());
        return StepResult.Ok(step);
    }

    private StepResult Freeze(Freeze step)
    {
        if (UnknownMember(step, step.Member) is { } unknown)
        {
            return unknown;
        }
        if (!_world.Network.IsRunning(step.Member) || _world.Network.IsFrozen(step.Member))
        {
            return StepResult.Refused(step, $"{step.Member} is {Describe(step.Member)}");
        }
        _world.Network.SetFrozen(step.Member, true);
        MemberRef(step.Member).Tell(new FreezeProcess());
        return StepResult.Ok(step);
    }

    private StepResult Thaw(Thaw step)
    {
        if (UnknownMember(step, step.Member) is { } unknown)
        {
            return unknown;
        }
        if (!_world.Network.IsFrozen(step.Member))
        {
            return StepResult.Refused(step, $"{step.Member} is not frozen ({Describe(step.Member)})");
        }
        _world.Network.SetFrozen(step.Member, false);
        MemberRef(step.Member).Tell(new ThawProcess());
        return StepResult.Ok(step);
    }

    private StepResult Partition(Partition step)
    {
        if (UnknownMember(step, step.Member) is { } unknown)
        {
            return unknown;
        }
        if (_world.Network.IsPartitioned(step.Member))
        {
            return StepResult.Refused(step, $"{step.Member} is already partitioned");
        }
        _world.Network.SetPartitioned(step.Member, true);
        _world.Record(step.Member, ModelEventKinds.Partitioned, "cut off from the DCS, the members and the client");
        return StepResult.Ok(step);
    }

    private StepResult Heal(Heal step)
    {
        if (UnknownMember(step, step.Member) is { } unknown)
        {
            return unknown;
        }
        if (!_world.Network.IsPartitioned(step.Member))
        {
            return StepResult.Refused(step, $"{step.Member} is not partitioned");
        }
        _world.Network.SetPartitioned(step.Member, false);
        _world.Record(step.Member, ModelEventKinds.Healed, "");
        MemberRef(step.Member).Tell(new HealMember());
        return StepResult.Ok(step);
    }

    private StepResult Restart(Restart step)
    {
        if (UnknownMember(step, step.Member) is { } unknown)
        {
            return unknown;
        }
        if (!Reachable(step.Member))
        {
            return StepResult.Refused(step, $"{step.Member}'s REST API does not answer ({Describe(step.Member)})");
        }
        MemberRef(step.Member).Tell(new RestartPostgres());
        return StepResult.Ok(step);
    }

    private StepResult PatchConfig(PatchConfig step)
    {
        var next = Config.Apply(step.Patch);
        var problems = next.Problems().ToList();
        if (problems.Count > 0)
        {
            return StepResult.Refused(step, string.Join("; ", problems));
        }
        if (!_names.Any(Reachable))
        {
            return StepResult.Refused(step, "no member's REST API answers");
        }
        PatchDynamicConfig(next, step.Patch.ToString());
        return StepResult.Ok(step);
    }

    private void PatchDynamicConfig(ClusterConfig next, string what)
    {
        Config = next;
        _world.Record("dcs", ModelEventKinds.ConfigPatched, what);
        Query<DcsView>(_wiring.Dcs, new PatchDynamicConfig(next));
    }

    private StepResult Reconcile(Reconcile step)
    {
        var consumer = Query<ConsumerInspection>(_wiring.Consumer, InspectConsumer.Instance)!;
        var persisted = consumer.Positions.FirstOrDefault(p => p.Slot == step.SlotName);
        var position = persisted;
        if (step.LastConfirmed is { } given)
        {
            // A position given by the step is a probe: confirmed on the given timeline, else on the current leader's; it
            // does not change the consumer's persisted position.
            position = new ConsumerPosition(step.SlotName, given, step.Timeline ?? LeaderTimeline());
        }
        var reconciler = Options.ReconcilerFactory is { } factory ? factory(Endpoint) : new SlotReconciler(Endpoint);
        var task = ReconcileStepRunner.RunAsync(reconciler, step.SlotName, position);
        if (!task.IsCompleted)
        {
            throw new InvalidOperationException("the reconciler did not complete synchronously on the model's endpoint");
        }
        var observation = task.GetAwaiter().GetResult();
        // The consumer resumes from the slot the reconciler left when that slot is past its persisted position.
        if (step.LastConfirmed is null
            && observation.Outcome is ReconcileOutcome.Created or ReconcileOutcome.RecreatedWithGap or ReconcileOutcome.RecreatedNoGap or ReconcileOutcome.FoundAhead
            && observation.Leader is { } leaderName)
        {
            PersistConsumerAt(step.SlotName, leaderName, $"resumed after {observation.Outcome}");
        }
        var status = observation.Outcome == ReconcileOutcome.Error ? StepStatus.Failed : StepStatus.Ok;
        return new StepResult(step, status, observation.Detail, observation);
    }

    private int LeaderTimeline()
    {
        var holder = ReadDcs().Lease?.Holder;
        return holder is null ? 1 : Inspect(holder).Timeline;
    }

    private StepResult Settle(Settle step)
    {
        var start = _world.Now;
        var deadline = start + ModelTimings.SettleTimeout;
        while (true)
        {
            var problem = Unsettled();
            if (problem is null)
            {
                return StepResult.Ok(step, $"settled in {_world.Now - start} ms");
            }
            if (_world.Now >= deadline)
            {
                return StepResult.Failed(step, $"not settled after {ModelTimings.SettleTimeout} ms: {problem}; seen: {Observe()}");
            }
            _world.Clock.RunUntil(Math.Min(deadline, _world.Now + ModelTimings.SettlePoll));
            ThrowIfActorFailed();
        }
    }

    /// <summary>Null when there is exactly one leader and every running, reachable member streams from it on its timeline and has replayed its WAL.</summary>
    internal string? Unsettled()
    {
        var view = ReadDcs();
        if (view.Lease?.Holder is not { } holder)
        {
            return "no leader";
        }
        if (!Reachable(holder))
        {
            return $"the leader {holder} does not answer ({Describe(holder)})";
        }
        var leader = Inspect(holder);
        if (!leader.Writable)
        {
            return $"the leader {holder} is not writable";
        }
        var replicas = 0;
        foreach (var name in _names)
        {
            if (name == holder || !Reachable(name))
            {
                continue;
            }
            var m = Inspect(name);
            if (m.IsPrimary)
            {
                return $"{name} is a primary too";
            }
            if (!m.Streaming || m.Upstream != holder || m.Timeline != leader.Timeline)
            {
                return $"{name} does not stream from {holder} on tl{leader.Timeline} (upstream {m.Upstream ?? "none"}, tl{m.Timeline})";
            }
            if (m.EndLsn < leader.EndLsn)
            {
                // Only with ModelOptions.MaxReplicationDelayMilliseconds: records still on their way.
                return $"{name} has replayed {m.EndLsn}, {holder} is at {leader.EndLsn}";
            }
            replicas++;
        }
        if (Config.SynchronousMode != SynchronousMode.Off && replicas > 0 && leader.SyncStandby is null)
        {
            return $"{holder} has no synchronous standby yet";
        }
        return null;
    }

    private StepResult WaitStep(Wait step)
    {
        if (step.Seconds < 0)
        {
            return StepResult.Refused(step, $"seconds must not be negative, got {step.Seconds}");
        }
        _world.Clock.Advance(step.Seconds * 1000L);
        return StepResult.Ok(step);
    }
}
