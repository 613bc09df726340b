using PatroniModel.Exploration.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Exploration.Properties;

/// <summary>
/// Durability: in synchronous_mode_strict no acknowledged write is ever lost; otherwise what a timeline wrote past the point
/// where the current leader's history says it ended stays within maximum_lag_on_failover plus what it wrote in its last ttl.
/// </summary>
public sealed class DurabilityProperty(RunRecord run) : IProperty
{
    private readonly HashSet<int> _judgedTimelines = [];
    private readonly Dictionary<int, IReadOnlyList<TimelineEnd>> _histories = [];
    private bool _strictThroughout = true;

    public string Label => PropertyLabels.Durability;

    public PropertyViolation? Check(PropertyStep step) => Check(step.Index, step.After);

    private PropertyViolation? Check(int index, Observation observation)
    {
        // The strict guarantee covers writes acknowledged under strict: checked when the run was strict from its start
        // (a row acknowledged in async mode before a patch to strict may be lost, and the observation carries no ack times).
        _strictThroughout &= run.Config.SynchronousMode == SynchronousMode.Strict;
        var lost = observation.LostAcknowledged.IsDefaultOrEmpty ? [] : observation.LostAcknowledged;
        if (_strictThroughout && lost.Length > 0)
        {
            return new PropertyViolation(PropertyLabels.Durability, index,
                $"{lost.Length} acknowledged writes lost in synchronous_mode_strict (rows {string.Join(',', lost.Take(5))}{(lost.Length > 5 ? ",..." : "")}) on leader {observation.Leader ?? "none"}");
        }
        if (observation.LeaderMember is not { Timeline: > 1 } leader || !leader.Writable)
        {
            return null;
        }
        if (!_histories.TryGetValue(leader.Timeline, out var history))
        {
            if (run.Cluster.TimelineHistory(leader.Name, leader.Timeline) is not { } read)
            {
                return null;
            }
            _histories[leader.Timeline] = history = read;
        }
        foreach (var ended in history)
        {
            if (!_judgedTimelines.Add(ended.Timeline))
            {
                continue;
            }
            // The failover: the earliest moment a member may have accepted writes on a later timeline (the start of the step
            // after which it was first seen writable: lenient, the promotion may have come later in a long wait).
            var promotedAt = run.TimelineFirstWritableAfter.Where(t => t.Key > ended.Timeline).Select(t => (long?)t.Value).Min();
            var child = run.TimelineFirstWritableAfter.Keys.Where(t => t > ended.Timeline).DefaultIfEmpty(0).Min();
            if (promotedAt is null || run.ManualTimelines.Contains(child) || !run.WalByTimeline.TryGetValue(ended.Timeline, out var samples))
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
            var windowStart = stoppedAt - run.DurabilityWindowMilliseconds;
            var earlier = beforePromotion.Where(s => s.At <= windowStart).ToList();
            if (earlier.Count == 0)
            {
                continue;
            }
            var baseline = earlier.Max(s => s.Wal);
            var writtenInLastTtl = end.BytesAfter(baseline);
            var allowed = run.Config.MaximumLagOnFailover + writtenInLastTtl;
            if (overshoot > allowed)
            {
                return new PropertyViolation(PropertyLabels.Durability, index,
                    $"timeline {ended.Timeline} had reached {end} when a later timeline took over at t={promotedAt}ms, forked at {ended.SwitchPoint}: "
                    + $"{overshoot} B lost ({lost.Length} acknowledged rows among them), more than maximum_lag_on_failover {run.Config.MaximumLagOnFailover} B "
                    + $"+ {writtenInLastTtl} B written in the last ttl + loop_wait ({run.DurabilityWindowMilliseconds / 1000} s) before it stopped at t={stoppedAt}ms");
            }
        }
        return null;
    }
}
