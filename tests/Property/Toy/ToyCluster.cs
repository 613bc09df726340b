using System.Collections.Immutable;
using NpgsqlTypes;
using PatroniModel.Consumer.Reconciling;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Tests.Property.Toy;

/// <summary>
/// A small hand-written cluster for testing the property machinery itself (generators, checker, shrinker, explorer)
/// apart from the Akka.NET model: no lag, no lease timing (a fault on the leader promotes the first running member at once),
/// slots on the leader only, permanent slots carried across promotions at their position, unknown slots dropped on a
/// restart of the leader or a permanent-slot change. It serves the reconciler's <see cref="IPatroniEndpoint"/> (a session on
/// the member asked for: a replica has no slots), so the real <see cref="SlotReconciler"/> (or a deliberately wrong one)
/// runs against it, one reconciler for the cluster's whole life.
/// </summary>
public sealed class ToyCluster : ISimulatedCluster, IPatroniEndpoint
{
    private const long BytesPerRow = 120;

    private readonly Dictionary<string, ToyMember> members;
    private readonly Dictionary<string, (Lsn Confirmed, Lsn Restart)> slots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConsumerPosition> consumers = new(StringComparer.Ordinal);
    private readonly List<TimelineEnd> history = [];
    private readonly List<long> acknowledged = [];
    private readonly ISlotReconciler reconciler;
    private readonly ToyBugs bugs;
    private string? leader = "pg1";
    private int timeline = 1;
    private Lsn wal = new(0x3000000);
    private long now;

    public ToyCluster(ClusterConfig config, Func<IPatroniEndpoint, ISlotReconciler>? reconcilerFactory = null, ToyBugs bugs = default)
    {
        Config = config;
        this.bugs = bugs;
        members = config.MemberNames.ToDictionary(m => m, m => new ToyMember(m), StringComparer.Ordinal);
        foreach (var slot in config.PermanentSlots)
        {
            slots[slot] = (wal, wal);
        }
        reconciler = (reconcilerFactory ?? (e => new SlotReconciler(e)))(this);
    }

    public ClusterConfig Config { get; private set; }

    public StepResult Apply(Step step)
    {
        now += 100;
        switch (step)
        {
            case CreateSlot c:
                if (Leader is null || slots.ContainsKey(c.SlotName))
                {
                    return StepResult.Refused(step, "no leader or slot exists");
                }
                slots[c.SlotName] = (wal, wal);
                if (c.Permanent && !Config.PermanentSlots.Contains(c.SlotName))
                {
                    Config = Config with { PermanentSlots = Config.PermanentSlots.Add(c.SlotName) };
                }
                return StepResult.Ok(step);
            case DropSlot d:
                Config = Config with { PermanentSlots = Config.PermanentSlots.Remove(d.SlotName) };
                return slots.Remove(d.SlotName) ? StepResult.Ok(step) : StepResult.Refused(step, "no such slot");
            case Write w:
                if (Leader is null)
                {
                    return StepResult.Failed(step, "no leader");
                }
                for (var i = 0; i < w.Rows; i++)
                {
                    var id = acknowledged.Count + 1L;
                    acknowledged.Add(id);
                    foreach (var m in members.Values.Where(m => m.Condition == MemberState.Running))
                    {
                        m.Rows.Add(id);
                    }
                    wal = wal.Plus(BytesPerRow);
                }
                return StepResult.Ok(step);
            case Consume c:
                if (Leader is null || !slots.ContainsKey(c.SlotName))
                {
                    return StepResult.Refused(step, "no leader or no slot");
                }
                slots[c.SlotName] = (wal, slots[c.SlotName].Restart);
                consumers[c.SlotName] = new ConsumerPosition(c.SlotName, wal, timeline);
                return StepResult.Ok(step);
            case AdvanceWal a:
                wal = wal.Plus(a.Bytes);
                return StepResult.Ok(step);
            case Checkpoint:
                wal = wal.Plus(40);
                return StepResult.Ok(step);
            case Switchover s:
                if (s.From != leader)
                {
                    return StepResult.Refused(step, $"{s.From} is not the leader");
                }
                var candidate = s.To ?? Running.FirstOrDefault(m => m != leader);
                if (candidate is null || members[candidate].Condition != MemberState.Running)
                {
                    return StepResult.Refused(step, "no healthy candidate");
                }
                Promote(candidate);
                return StepResult.Ok(step);
            case Failover f:
                if (members[f.To].Condition != MemberState.Running || f.To == leader)
                {
                    return StepResult.Refused(step, "bad candidate");
                }
                Promote(f.To);
                return StepResult.Ok(step);
            case Kill or Freeze or Partition:
                var member = ((MemberStep)step).Member;
                members[member].Condition = step switch
                {
                    Kill => MemberState.Stopped,
                    Freeze => MemberState.Frozen,
                    _ => MemberState.Partitioned,
                };
                if (member == leader)
                {
                    leader = null;
                    if (Running.FirstOrDefault() is { } next)
                    {
                        Promote(next);
                    }
                }
                return StepResult.Ok(step);
            case Start or Thaw or Heal:
                var back = members[((MemberStep)step).Member];
                back.Condition = MemberState.Running;
                if (Leader is { } l)
                {
                    back.Rows.Clear();
                    back.Rows.AddRange(l.Rows);
                }
                else
                {
                    Promote(back.Name);
                }
                return StepResult.Ok(step);
            case Restart r:
                if (r.Member == leader)
                {
                    DropUnknownSlots();
                }
                return StepResult.Ok(step);
            case PatchConfig p:
                Config = Config.Apply(p.Patch);
                if (p.Patch.TouchesPermanentSlots)
                {
                    DropUnknownSlots();
                    foreach (var slot in Config.PermanentSlots.Where(s => !slots.ContainsKey(s)))
                    {
                        slots[slot] = (wal, wal);
                    }
                }
                return StepResult.Ok(step);
            case Reconcile r:
                var position = consumers.GetValueOrDefault(r.SlotName);
                if (r.LastConfirmed is { } lc)
                {
                    position = new ConsumerPosition(r.SlotName, lc, position?.Timeline ?? timeline);
                }
                var observation = ReconcileStepRunner.RunAsync(reconciler, r.SlotName, position).GetAwaiter().GetResult();
                return new StepResult(step, StepStatus.Ok, "", observation);
            case Wait w:
                now += w.Seconds * 1000L;
                return StepResult.Ok(step);
            default:
                return StepResult.Ok(step);
        }
    }

    public Observation Observe()
    {
        var leaderRows = Leader?.Rows ?? [];
        return new Observation(
            now,
            leader,
            [.. members.Values.Select(m => new MemberObservation(
                m.Name,
                m.Name == leader ? MemberRole.Leader : MemberRole.Replica,
                m.Condition,
                timeline,
                wal,
                m.Name == leader && m.Condition == MemberState.Running,
                m.Name != leader && m.Condition == MemberState.Running,
                m.Name == leader ? [.. slots.Select(s => new SlotObservation(s.Key, s.Value.Confirmed, s.Value.Restart))] : [],
                Scenarios.Observations.RowDigest.Compute(m.Rows),
                m.Rows.Count))],
            [.. consumers.Values],
            acknowledged.Count,
            leader is null ? [] : [.. acknowledged.Where(id => !leaderRows.Contains(id))]);
    }

    public IReadOnlyList<TimelineEnd>? TimelineHistory(string member, int timeline) => history;

    public string TraceText() => $"toy cluster: leader {leader}, timeline {timeline}, wal {wal}";

    public void Dispose()
    {
    }

    private ToyMember? Leader => leader is null ? null : members[leader];

    private IEnumerable<string> Running => members.Values.Where(m => m.Condition == MemberState.Running).Select(m => m.Name);

    private void Promote(string candidate)
    {
        history.Add(new TimelineEnd(timeline, wal));
        timeline++;
        leader = candidate;
        foreach (var slot in slots.Keys.Where(s => !Config.PermanentSlots.Contains(s) || bugs.LosePermanentSlots).ToList())
        {
            slots.Remove(slot);
        }
        if (bugs.ForgetLastRowOnPromotion && members[candidate].Rows.Count > 0)
        {
            members[candidate].Rows.RemoveAt(members[candidate].Rows.Count - 1);
        }
    }

    private void DropUnknownSlots()
    {
        foreach (var slot in slots.Keys.Where(s => !Config.PermanentSlots.Contains(s) && !Config.IgnoreSlots.Contains(s)).ToList())
        {
            slots.Remove(slot);
        }
    }

    Task<PatroniClusterView> IPatroniEndpoint.GetClusterAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new PatroniClusterView(
            [.. members.Values.Select(m => new PatroniMember(m.Name, m.Name == leader ? "leader" : "replica", "running", m.Name, 5432, timeline))],
            "toy"));

    Task<PatroniSlotConfig> IPatroniEndpoint.GetSlotConfigAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new PatroniSlotConfig([.. Config.PermanentSlots], [.. Config.IgnoreSlots.Select(s => new IgnoreSlotRule(s))]));

    /// <summary>A session on the named member: one that does not run does not answer; a replica has no slots and can't create one.</summary>
    Task<ILeaderSession> IPatroniEndpoint.ConnectAsync(PatroniMember member, CancellationToken cancellationToken) =>
        members.TryGetValue(member.Name, out var m) && m.Condition == MemberState.Running
            ? Task.FromResult<ILeaderSession>(new Session(this, member.Name == leader))
            : throw new PatroniUnreachableException($"cannot connect to {member.Name}'s PostgreSQL: not running");

    private sealed class Session(ToyCluster cluster, bool onLeader) : ILeaderSession
    {
        public Task<LeaderIdentity> IdentifySystemAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult(new LeaderIdentity("toy", cluster.timeline, cluster.wal.ToNpgsql()));

        public Task<IReadOnlyList<TimelineSwitch>> TimelineHistoryAsync(int timeline, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<TimelineSwitch>>([.. cluster.history.Where(h => h.Timeline < timeline).Select(h => new TimelineSwitch(h.Timeline, h.SwitchPoint.ToNpgsql()))]);

        public Task<SlotState?> FindSlotAsync(string slot, CancellationToken cancellationToken = default) =>
            Task.FromResult(onLeader && cluster.slots.TryGetValue(slot, out var s)
                ? new SlotState(slot, "logical", "test_decoding", "postgres", false, s.Restart.ToNpgsql(), s.Confirmed.ToNpgsql())
                : null);

        public Task<NpgsqlLogSequenceNumber> CreateLogicalSlotAsync(string slot, string plugin, CancellationToken cancellationToken = default)
        {
            if (!onLeader)
            {
                throw new PatroniUnreachableException($"cannot create slot {slot}: logical decoding cannot be used while in recovery");
            }
            if (cluster.slots.ContainsKey(slot))
            {
                throw new SlotAlreadyExistsException(slot);
            }
            cluster.slots[slot] = (cluster.wal, cluster.wal);
            return Task.FromResult(cluster.wal.ToNpgsql());
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class ToyMember(string name)
    {
        public string Name { get; } = name;
        public MemberState Condition { get; set; } = MemberState.Running;
        public List<long> Rows { get; } = [];
    }
}

/// <summary>Bugs the toy cluster can plant, to show the cluster-side properties have teeth.</summary>
public readonly record struct ToyBugs(bool LosePermanentSlots = false, bool ForgetLastRowOnPromotion = false);

/// <summary>Builds toy clusters with a chosen reconciler and planted bugs.</summary>
public sealed class ToyClusterFactory(Func<IPatroniEndpoint, ISlotReconciler>? reconcilerFactory = null, ToyBugs bugs = default) : ISimulatedClusterFactory
{
    public ISimulatedCluster Create(ClusterConfig config, int seed) => new ToyCluster(config, reconcilerFactory, bugs);
}
