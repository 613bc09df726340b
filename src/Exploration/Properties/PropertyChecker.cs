using PatroniModel.Exploration.Clusters;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Exploration.Properties;

/// <summary>
/// Checks the eight properties of issue 4 (and, on PostgreSQL 17 with synchronized_standby_slots, the failover-slot promise)
/// after every step of one run, from the observations before and after the step,
/// the step's result and the cluster's timeline history. One instance per run: it remembers when members were thawed,
/// since when every member is healthy, and the WAL positions each timeline's writable member reached.
/// </summary>
/// <remarks>
/// The ground truth for a reconcile step is the cluster's state, not the reconciler's: the slot's <c>confirmed_flush_lsn</c>
/// on the leader in the observation before the step (was it there, where), the new slot's position in the observation after it
/// (a fresh slot's confirmed_flush_lsn is its consistent point), the consumer's last confirmed position and timeline, and the
/// leader's timeline history (where the consumer's timeline ended).
/// </remarks>
public sealed class PropertyChecker(ISimulatedCluster cluster)
{
    private readonly Dictionary<string, long> thawedAt = new(StringComparer.Ordinal);
    private readonly Dictionary<int, List<(long At, Lsn Wal)>> walByTimeline = [];
    private readonly Dictionary<int, long> timelineFirstWritableAfter = [];
    private readonly HashSet<int> manualTimelines = [];
    private readonly HashSet<int> judgedTimelines = [];
    private readonly Dictionary<int, IReadOnlyList<TimelineEnd>> histories = [];
    private readonly Dictionary<string, ConsumerPosition> decodedTo = new(StringComparer.Ordinal);
    private long? healthySince;
    private bool strictThroughout = true;

    private ClusterConfig Config => cluster.Config;

    /// <summary>Window in which a thawed ex-leader may still accept writes on its old timeline: its HA loop runs within
    /// loop_wait and its DCS read is bounded by retry_timeout (Patroni docs: watchdog, dynamic_configuration).</summary>
    public long FrozenLeaderWindowMilliseconds => (Config.LoopWait + Config.RetryTimeout) * 1000L;

    /// <summary>After healing, a leader exists within ttl + loop_wait + retry_timeout.</summary>
    public long LivenessBoundMilliseconds => (Config.Ttl + Config.LoopWait + Config.RetryTimeout) * 1000L;

    /// <summary>
    /// How long before the old leader stopped a write counts as written "in the last ttl" for the async durability bound:
    /// ttl as Patroni documents, plus one loop_wait because the lag check compares with the position the leader last
    /// published to the DCS, at most one HA loop before it stopped.
    /// </summary>
    public long DurabilityWindowMilliseconds => (Config.Ttl + Config.LoopWait) * 1000L;

    /// <summary>Records the observation taken before the first step.</summary>
    public PropertyViolation? Start(Observation initial)
    {
        foreach (var member in initial.Members.Where(m => m.Writable))
        {
            timelineFirstWritableAfter.TryAdd(member.Timeline, initial.AtMilliseconds);
        }
        Record(initial);
        return OneWritableLeader(-1, initial);
    }

    /// <summary>Checks every property after step <paramref name="index"/>; the first violation, or null.</summary>
    public PropertyViolation? Check(int index, Step step, StepResult result, Observation before, Observation after)
    {
        if (step is Thaw thaw && result.Status == StepStatus.Ok)
        {
            thawedAt[thaw.Member] = before.AtMilliseconds;
        }
        foreach (var member in after.Members.Where(m => m.Writable && m.State != MemberState.Frozen))
        {
            // The promotion happened during this step: no later than its end, no earlier than its start.
            if (timelineFirstWritableAfter.TryAdd(member.Timeline, before.AtMilliseconds) && step is Switchover or Failover)
            {
                manualTimelines.Add(member.Timeline);
            }
        }
        Record(after);
        RecordDecoded(step, result, before, after);
        return Reconcile(index, step, result, before, after)
               ?? OneWritableLeader(index, after)
               ?? Durability(index, after)
               ?? Convergence(index, step, after)
               ?? Liveness(index, step, after);
    }

    private void Record(Observation observation)
    {
        foreach (var member in observation.Members)
        {
            if (member.Writable && member.State != MemberState.Frozen)
            {
                if (!walByTimeline.TryGetValue(member.Timeline, out var samples))
                {
                    walByTimeline[member.Timeline] = samples = [];
                }
                samples.Add((observation.AtMilliseconds, member.WalLsn));
            }
        }
    }

    /// <summary>Properties 1 to 4: gap exactness, no false alarm, duplicates, divergence.</summary>
    private PropertyViolation? Reconcile(int index, Step step, StepResult result, Observation before, Observation after)
    {
        if (step is not Reconcile reconcile || result.Reconcile is not { } report)
        {
            return null;
        }
        var leader = before.LeaderMember;
        if (report.Outcome == ReconcileOutcome.Error)
        {
            return leader is { State: MemberState.Running, Writable: true } && after.Leader == leader.Name
                ? new PropertyViolation(PropertyLabels.NoFalseAlarm, index,
                    $"the reconciler failed ({report.Detail}) although {leader.Name} was a healthy, writable leader")
                : null;
        }
        if (leader is null || report.Leader != leader.Name)
        {
            // Leadership moved during the step (or the cluster had no leader key): no ground truth to compare with.
            return null;
        }
        var consumer = before.Consumers.IsDefaultOrEmpty ? null : before.Consumers.FirstOrDefault(c => c.Slot == reconcile.SlotName);
        var confirmed = reconcile.LastConfirmed ?? consumer?.LastConfirmed;
        PropertyViolation Fail(string label, string expected) =>
            new(label, index, $"expected {expected}; the reconciler reported: {report}");

        if (report.LastConfirmed != confirmed)
        {
            return Fail(PropertyLabels.GapExactness, $"the consumer's last confirmed position {Show(confirmed)} to be the one measured from");
        }

        // Property 4: the consumer confirmed past the point where its timeline ended in the leader's history.
        if (confirmed is { } position && consumer is { } c && c.Timeline < leader.Timeline)
        {
            if (cluster.TimelineHistory(leader.Name, leader.Timeline) is not { } history)
            {
                return null;
            }
            var ended = history.FirstOrDefault(h => h.Timeline == c.Timeline);
            if (ended is null || position > ended.SwitchPoint)
            {
                var fork = ended?.SwitchPoint;
                // PostgreSQL 17's promise: with synchronized_standby_slots a failover slot's consumer only receives WAL every
                // standby flushed, so the changes it decoded are on whichever standby is promoted: no phantoms.
                if (reconcile.LastConfirmed is null && decodedTo.TryGetValue(reconcile.SlotName, out var decoded) && decoded == c)
                {
                    return new PropertyViolation(PropertyLabels.FailoverSlots, index,
                        $"the consumer decoded {position} on timeline {c.Timeline} past the fork at {Show(fork)} of {leader.Name}'s timeline {leader.Timeline}, "
                        + "although synchronized_standby_slots should have held it behind every standby");
                }
                return report.Outcome == ReconcileOutcome.Diverged && report.Fork == fork
                    ? null
                    : Fail(PropertyLabels.Divergence,
                        $"diverged at {Show(fork)} (consumer confirmed {position} on timeline {c.Timeline}, leader {leader.Name} on timeline {leader.Timeline})");
            }
        }
        if (report.Outcome == ReconcileOutcome.Diverged)
        {
            return Fail(PropertyLabels.NoFalseAlarm,
                $"no divergence (consumer at {Show(confirmed)} on timeline {Show(consumer?.Timeline)}, leader on timeline {leader.Timeline})");
        }

        var existing = leader.Slots.IsDefaultOrEmpty ? null : leader.Slots.FirstOrDefault(s => s.Name == reconcile.SlotName);
        if (existing is not null)
        {
            var flush = existing.ConfirmedFlush;
            if (confirmed is not { } p || flush == p)
            {
                return report is { Outcome: ReconcileOutcome.Found, DuplicateBytes: 0 } && report.SlotPosition == flush
                    ? null
                    : Fail(PropertyLabels.NoFalseAlarm, $"found at {flush}, no alarm (the slot exists on {leader.Name} at the consumer's position)");
            }
            if (flush < p)
            {
                var distance = p.BytesAfter(flush);
                return report.Outcome == ReconcileOutcome.Found && report.DuplicateBytes == distance && report.SlotPosition == flush
                    ? null
                    : Fail(PropertyLabels.Duplicates, $"found behind by exactly {distance} B (slot at {flush}, consumer at {p})");
            }
            return report.Outcome == ReconcileOutcome.FoundAhead && report.GapStart == p && report.GapEnd == flush && report.GapBytes == flush.BytesAfter(p)
                ? null
                : Fail(PropertyLabels.GapExactness, $"found ahead: gap {p}..{flush} ({flush.BytesAfter(p)} B) (slot re-created or advanced past the consumer)");
        }

        var created = after.Member(leader.Name)?.Slots is { IsDefaultOrEmpty: false } slots
            ? slots.FirstOrDefault(s => s.Name == reconcile.SlotName)
            : null;
        if (created is null)
        {
            return after.Leader == leader.Name
                ? Fail(PropertyLabels.GapExactness, $"the slot to be on {leader.Name} after the reconciler ran (it was missing before)")
                : null;
        }
        var point = created.ConfirmedFlush;
        if (confirmed is not { } start)
        {
            return report.Outcome == ReconcileOutcome.Created && report.SlotPosition == point
                ? null
                : Fail(PropertyLabels.NoFalseAlarm, $"created at {point} (a fresh slot, no consumer position yet)");
        }
        if (point > start)
        {
            return report.Outcome == ReconcileOutcome.RecreatedWithGap && report.GapStart == start && report.GapEnd == point
                   && report.GapBytes == point.BytesAfter(start)
                ? null
                : Fail(PropertyLabels.GapExactness, $"gap {start}..{point} ({point.BytesAfter(start)} B) (slot lost, WAL moved past the consumer)");
        }
        return report.Outcome == ReconcileOutcome.RecreatedNoGap && report.SlotPosition == point
            ? null
            : Fail(PropertyLabels.NoFalseAlarm, $"re-created at {point}, no gap (WAL had not moved past the consumer's {start})");
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
            decodedTo.Remove(consume.SlotName);
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
            decodedTo[consume.SlotName] = now;
        }
        else
        {
            decodedTo.Remove(consume.SlotName);
        }
    }

    /// <summary>Property 5: no two members accept writes at once, except a thawed ex-leader inside the bounded frozen-leader window.</summary>
    private PropertyViolation? OneWritableLeader(int index, Observation observation)
    {
        var writable = observation.Members.Where(m => m.Writable && m.State != MemberState.Frozen).OrderByDescending(m => m.Timeline).ToList();
        if (writable.Count < 2)
        {
            return null;
        }
        var newest = writable[0];
        foreach (var other in writable.Skip(1))
        {
            if (other.Timeline == newest.Timeline)
            {
                return new PropertyViolation(PropertyLabels.OneWritableLeader, index,
                    $"{newest.Name} and {other.Name} both accept writes on timeline {newest.Timeline} at t={observation.AtMilliseconds}ms");
            }
            var inWindow = thawedAt.TryGetValue(other.Name, out var thawed)
                           && observation.AtMilliseconds - thawed <= FrozenLeaderWindowMilliseconds;
            if (!inWindow)
            {
                var why = thawedAt.TryGetValue(other.Name, out var t)
                    ? $"{observation.AtMilliseconds - t} ms after its thaw, past the {FrozenLeaderWindowMilliseconds} ms frozen-leader window"
                    : "and it was never frozen";
                return new PropertyViolation(PropertyLabels.OneWritableLeader, index,
                    $"{other.Name} accepts writes on timeline {other.Timeline} while {newest.Name} does on timeline {newest.Timeline} at t={observation.AtMilliseconds}ms, {why}");
            }
        }
        return null;
    }

    /// <summary>
    /// Property 6: in synchronous_mode_strict no acknowledged write is ever lost; otherwise what a timeline wrote past the point
    /// where the current leader's history says it ended stays within maximum_lag_on_failover plus what it wrote in its last ttl.
    /// </summary>
    private PropertyViolation? Durability(int index, Observation observation)
    {
        // The strict guarantee covers writes acknowledged under strict: checked when the run was strict from its start
        // (a row acknowledged in async mode before a patch to strict may be lost, and the observation carries no ack times).
        strictThroughout &= Config.SynchronousMode == SynchronousMode.Strict;
        var lost = observation.LostAcknowledged.IsDefaultOrEmpty ? [] : observation.LostAcknowledged;
        if (strictThroughout && lost.Length > 0)
        {
            return new PropertyViolation(PropertyLabels.Durability, index,
                $"{lost.Length} acknowledged writes lost in synchronous_mode_strict (rows {string.Join(',', lost.Take(5))}{(lost.Length > 5 ? ",..." : "")}) on leader {observation.Leader ?? "none"}");
        }
        if (observation.LeaderMember is not { Timeline: > 1 } leader || !leader.Writable)
        {
            return null;
        }
        if (!histories.TryGetValue(leader.Timeline, out var history))
        {
            if (cluster.TimelineHistory(leader.Name, leader.Timeline) is not { } read)
            {
                return null;
            }
            histories[leader.Timeline] = history = read;
        }
        foreach (var ended in history)
        {
            if (!judgedTimelines.Add(ended.Timeline))
            {
                continue;
            }
            // The failover: the earliest moment a member may have accepted writes on a later timeline (the start of the step
            // after which it was first seen writable: lenient, the promotion may have come later in a long wait).
            var promotedAt = timelineFirstWritableAfter.Where(t => t.Key > ended.Timeline).Select(t => (long?)t.Value).Min();
            var child = timelineFirstWritableAfter.Keys.Where(t => t > ended.Timeline).DefaultIfEmpty(0).Min();
            if (promotedAt is null || manualTimelines.Contains(child) || !walByTimeline.TryGetValue(ended.Timeline, out var samples))
            {
                // No automatic failover to judge: a switchover or a manual failover to a chosen candidate is the operator's call.
                continue;
            }
            var beforePromotion = samples.Where(s => s.At <= promotedAt).ToList();
            if (beforePromotion.Count == 0)
            {
                continue;
            }
            var end = beforePromotion.Max(s => s.Wal);
            var overshoot = end.BytesAfter(ended.SwitchPoint);
            if (overshoot == 0)
            {
                continue;
            }
            // "The last ttl": counted back from the last moment the old timeline accepted writes before the promotion (the
            // leader's death, freeze or cut-off), not from the promotion, which may come much later.
            var stoppedAt = beforePromotion.Max(s => s.At);
            var windowStart = stoppedAt - DurabilityWindowMilliseconds;
            var earlier = beforePromotion.Where(s => s.At <= windowStart).ToList();
            if (earlier.Count == 0)
            {
                continue;
            }
            var baseline = earlier.Max(s => s.Wal);
            var writtenInLastTtl = end.BytesAfter(baseline);
            var allowed = Config.MaximumLagOnFailover + writtenInLastTtl;
            if (overshoot > allowed)
            {
                return new PropertyViolation(PropertyLabels.Durability, index,
                    $"timeline {ended.Timeline} had reached {end} when a later timeline took over at t={promotedAt}ms, forked at {ended.SwitchPoint}: "
                    + $"{overshoot} B lost ({lost.Length} acknowledged rows among them), more than maximum_lag_on_failover {Config.MaximumLagOnFailover} B "
                    + $"+ {writtenInLastTtl} B written in the last ttl + loop_wait ({DurabilityWindowMilliseconds / 1000} s) before it stopped at t={stoppedAt}ms");
            }
        }
        return null;
    }

    /// <summary>Property 7: after every fault is healed and the cluster settled, every member's digest equals the leader's.</summary>
    private static PropertyViolation? Convergence(int index, Step step, Observation after)
    {
        if (step is not Settle || !AllRunning(after) || after.LeaderMember is not { } leader)
        {
            return null;
        }
        var differing = after.Members.Where(m => m.Digest != leader.Digest).ToList();
        return differing.Count == 0
            ? null
            : new PropertyViolation(PropertyLabels.Convergence, index,
                $"after settle, {string.Join(", ", differing.Select(m => $"{m.Name} ({m.Rows} rows, {Short(m.Digest)})"))} differ from leader {leader.Name} ({leader.Rows} rows, {Short(leader.Digest)})");
    }

    /// <summary>Property 8: once every member is healthy, a leader exists within ttl + loop_wait + retry_timeout (and after a settle).</summary>
    private PropertyViolation? Liveness(int index, Step step, Observation after)
    {
        if (!AllRunning(after))
        {
            healthySince = null;
            return null;
        }
        healthySince ??= after.AtMilliseconds;
        if (after.Leader is not null)
        {
            return null;
        }
        var healthyFor = after.AtMilliseconds - healthySince.Value;
        if (step is Settle)
        {
            return new PropertyViolation(PropertyLabels.Liveness, index,
                $"every member is running but there is no leader after settle ({healthyFor} ms after healing)");
        }
        return healthyFor > LivenessBoundMilliseconds
            ? new PropertyViolation(PropertyLabels.Liveness, index,
                $"every member has been running for {healthyFor} ms and there is no leader (bound: ttl + loop_wait + retry_timeout = {LivenessBoundMilliseconds} ms)")
            : null;
    }

    private static bool AllRunning(Observation observation) => observation.Members.All(m => m.State == MemberState.Running);

    private static string Show(object? value) => value?.ToString() ?? "none";

    private static string Short(string digest) => digest.Length > 8 ? digest[..8] : digest;
}
