using PatroniModel.Exploration.Clusters;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Exploration.Properties;

/// <summary>
/// What one run has shown so far, shared by the properties: when members were thawed, the WAL positions each timeline's
/// writable member reached and since when, which timelines a switchover or manual failover started, and how far the
/// consumer decoded a failover slot. One instance per run.
/// </summary>
public sealed class RunRecord(ISimulatedCluster cluster)
{
    /// <summary>The cluster the run is on (its configuration and timeline histories).</summary>
    public ISimulatedCluster Cluster { get; } = cluster;

    public ClusterConfig Config => Cluster.Config;

    /// <summary>When each member was last thawed.</summary>
    public Dictionary<string, long> ThawedAt { get; } = new(StringComparer.Ordinal);

    /// <summary>The WAL positions a writable member of each timeline reached, with when.</summary>
    public Dictionary<int, List<(long At, Lsn Wal)>> WalByTimeline { get; } = [];

    /// <summary>The start of the step after which a member of each timeline was first seen writable.</summary>
    public Dictionary<int, long> TimelineFirstWritableAfter { get; } = [];

    /// <summary>Timelines a switchover or a manual failover started (the operator's call, not judged for durability).</summary>
    public HashSet<int> ManualTimelines { get; } = [];

    /// <summary>Consumer positions reached by decoding a failover slot under synchronized_standby_slots.</summary>
    public Dictionary<string, ConsumerPosition> DecodedTo { get; } = new(StringComparer.Ordinal);

    /// <summary>Window in which a thawed ex-leader may still accept writes on its old timeline: its HA loop runs within
    /// loop_wait and its DCS read is bounded by retry_timeout (Patroni docs: watchdog, dynamic_configuration).</summary>
    public long FrozenLeaderWindowMilliseconds => (Config.Timings.LoopWait + Config.Timings.RetryTimeout) * 1000L;

    /// <summary>After healing, a leader exists within ttl + loop_wait + retry_timeout.</summary>
    public long LivenessBoundMilliseconds => (Config.Timings.Ttl + Config.Timings.LoopWait + Config.Timings.RetryTimeout) * 1000L;

    /// <summary>
    /// How long before the old leader stopped a write counts as written "in the last ttl" for the async durability bound:
    /// ttl as Patroni documents, plus one loop_wait because the lag check compares with the position the leader last
    /// published to the DCS, at most one HA loop before it stopped.
    /// </summary>
    public long DurabilityWindowMilliseconds => (Config.Timings.Ttl + Config.Timings.LoopWait) * 1000L;

    /// <summary>Records the observation taken before the first step.</summary>
    public void Start(Observation initial)
    {
        foreach (var member in initial.Members.Where(m => m.Writable))
        {
            TimelineFirstWritableAfter.TryAdd(member.Timeline, initial.AtMilliseconds);
        }
        Record(initial);
    }

    /// <summary>Records what step <paramref name="step"/> showed, before the properties judge it.</summary>
    public void Record(PropertyStep step)
    {
        var (before, after) = (step.Before, step.After);
        if (step.Step is Thaw thaw && step.Result?.Status == StepStatus.Ok)
        {
            ThawedAt[thaw.Member] = before.AtMilliseconds;
        }
        foreach (var member in after.Members.Where(m => m.Writable && m.State != MemberState.Frozen))
        {
            // The promotion happened during this step: no later than its end, no earlier than its start.
            if (TimelineFirstWritableAfter.TryAdd(member.Timeline, before.AtMilliseconds) && step.Step is Switchover or Failover)
            {
                ManualTimelines.Add(member.Timeline);
            }
        }
        Record(after);
        RecordDecoded(step.Step!, step.Result!, before, after);
    }

    private void Record(Observation observation)
    {
        foreach (var member in observation.Members)
        {
            // Only while the DCS names it leader: a thawed ex-leader writable again before its loop demotes it publishes no
            // position, so it does not move "the last moment the timeline accepted writes" of the durability bound.
            if (member.Writable && member.State != MemberState.Frozen && observation.Leader == member.Name)
            {
                if (!WalByTimeline.TryGetValue(member.Timeline, out var samples))
                {
                    WalByTimeline[member.Timeline] = samples = [];
                }
                samples.Add((observation.AtMilliseconds, member.WalLsn));
            }
        }
    }

    /// <summary>
    /// Remembers a consumer position that a consume step reached by decoding a failover slot under synchronized_standby_slots
    /// (not one set by creating or re-creating the slot). On PostgreSQL 17 the slots the consumer and the reconciler create are
    /// failover slots; Patroni's permanent slots, and slots kept only by ignore_slots, are not.
    /// </summary>
    private void RecordDecoded(Step step, StepResult result, Observation before, Observation after)
    {
        if (step is not Consume consume || result.Status != StepStatus.Ok || after.Consumers.IsDefaultOrEmpty)
        {
            return;
        }
        if (!Config.SynchronizedStandbySlots || Config.PermanentSlots.Contains(consume.SlotName) || Config.IgnoreSlots.Contains(consume.SlotName))
        {
            DecodedTo.Remove(consume.SlotName);
            return;
        }
        // Decoding happened only past where the slot stood on the leader before the step: a consume that merely takes over the
        // slot's position (its creation point, say) received nothing there.
        var now = after.Consumers.FirstOrDefault(c => c.Slot == consume.SlotName);
        var slotBefore = before.LeaderMember?.Slots is { IsDefaultOrEmpty: false } slots
            ? slots.FirstOrDefault(s => s.Name == consume.SlotName)?.ConfirmedFlush
            : null;
        if (now is not null && slotBefore is { } from && now.LastConfirmed > from)
        {
            DecodedTo[consume.SlotName] = now;
        }
        else
        {
            DecodedTo.Remove(consume.SlotName);
        }
    }

    /// <summary>Every member runs: nothing killed, frozen or partitioned.</summary>
    public static bool AllRunning(Observation observation) => observation.Members.All(m => m.State == MemberState.Running);

    public static string Show(object? value) => value?.ToString() ?? "none";
}
