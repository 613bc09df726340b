using PatroniModel.Exploration.Clusters;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Exploration.Properties;

/// <summary>
/// The ground truth for a <c>reconcile</c> step, judged once per step for the properties that read the reconciler's report
/// (current leader, gap exactness, no false alarm, duplicates, divergence, failover slots): the cluster's state, not the reconciler's: the
/// slot's <c>confirmed_flush_lsn</c> on the leader in the observation before the step (was it there, where), the new slot's
/// position in the observation after it (a fresh slot's confirmed_flush_lsn is its consistent point), the consumer's last
/// confirmed position and timeline, and the leader's timeline history (where the consumer's timeline ended).
/// </summary>
public sealed class ReconcileTruth(RunRecord run)
{
    private PropertyStep? _judged;
    private PropertyViolation? _verdict;

    /// <summary>What the step's report got wrong, under whichever property's label, or null (also for steps that are not reconciles).</summary>
    public PropertyViolation? Verdict(PropertyStep step)
    {
        if (!ReferenceEquals(_judged, step))
        {
            _judged = step;
            _verdict = step.Step is null ? null : Judge(step.Index, step.Step, step.Result!, step.Before, step.After);
        }
        return _verdict;
    }

    private PropertyViolation? Judge(int index, Step step, StepResult result, Observation before, Observation after)
    {
        if (step is not Reconcile reconcile || result.Reconcile is not { } report)
        {
            return null;
        }
        if (before.Leader != after.Leader)
        {
            // A reconcile takes no time on a simulated cluster, so the leader key cannot move during one: every report is
            // judged against the member that held the key throughout the step.
            return new PropertyViolation(PropertyLabels.CurrentLeader, index,
                $"the leader key moved from {Show(before.Leader)} to {Show(after.Leader)} during a reconcile step, which takes no time on a simulated cluster");
        }
        var leader = before.LeaderMember;
        if (report.Outcome == ReconcileOutcome.Error)
        {
            return leader is { State: MemberState.Running, Writable: true } && after.Leader == leader.Name
                ? new PropertyViolation(PropertyLabels.NoFalseAlarm, index,
                    $"the reconciler failed ({report.Detail}) although {leader.Name} was a healthy, writable leader")
                : null;
        }
        PropertyViolation Fail(string label, string expected) =>
            new(label, index, $"expected {expected}; the reconciler reported: {report}");
        if (leader is null || report.Leader != leader.Name)
        {
            // A reconciler that remembered an earlier leader (or session) reports on a member that no longer leads.
            return Fail(PropertyLabels.CurrentLeader, leader is null
                ? "an error: no member held the leader key"
                : $"a report on {leader.Name}, which held the leader key throughout the step");
        }
        // The position the reconciler was handed: a probe's own (read on its timeline, else on the leader's), else the persisted one.
        var persisted = before.Consumers.IsDefaultOrEmpty ? null : before.Consumers.FirstOrDefault(c => c.Slot == reconcile.SlotName);
        var consumer = reconcile.LastConfirmed is { } probe
            ? new ConsumerPosition(reconcile.SlotName, probe, reconcile.Timeline ?? leader.Timeline)
            : persisted;
        var confirmed = consumer?.LastConfirmed;

        if (report.LastConfirmed != confirmed)
        {
            return Fail(PropertyLabels.GapExactness, $"the consumer's last confirmed position {Show(confirmed)} to be the one measured from");
        }

        // Property 4: the consumer confirmed past the point where its timeline ended in the leader's history (a timeline the
        // history lacks, a sibling branch or one newer than the leader's, diverged at an unknown point).
        if (confirmed is { } position && consumer is { } c && c.Timeline != leader.Timeline)
        {
            if (run.Cluster.TimelineHistory(leader.Name, leader.Timeline) is not { } history)
            {
                return null;
            }
            var ended = history.FirstOrDefault(h => h.Timeline == c.Timeline);
            if (ended is null || position > ended.SwitchPoint)
            {
                var fork = ended?.SwitchPoint;
                // PostgreSQL 17's promise: with synchronized_standby_slots a failover slot's consumer only receives WAL every
                // standby flushed, so the changes it decoded are on whichever standby is promoted: no phantoms.
                if (reconcile.LastConfirmed is null && run.DecodedTo.TryGetValue(reconcile.SlotName, out var decoded) && decoded == c)
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

    private static string Show(object? value) => RunRecord.Show(value);
}

/// <summary>A property that holds when the reconcile ground truth finds nothing wrong under its label.</summary>
public abstract class ReconcileProperty(ReconcileTruth truth) : IProperty
{
    public abstract string Label { get; }

    public PropertyViolation? Check(PropertyStep step) => truth.Verdict(step) is { } v && v.Label == Label ? v : null;
}

/// <summary>Gap exactness: a lost or advanced slot's gap runs exactly from the consumer's last confirmed position to the slot's new position.</summary>
public sealed class GapExactnessProperty(ReconcileTruth truth) : ReconcileProperty(truth)
{
    public override string Label => PropertyLabels.GapExactness;
}

/// <summary>No false alarm: a slot at the consumer's position, a fresh slot, or one re-created behind the consumer raises no gap or divergence.</summary>
public sealed class NoFalseAlarmProperty(ReconcileTruth truth) : ReconcileProperty(truth)
{
    public override string Label => PropertyLabels.NoFalseAlarm;
}

/// <summary>Duplicates: a slot behind the consumer is found, with exactly the distance the consumer will see again.</summary>
public sealed class DuplicatesProperty(ReconcileTruth truth) : ReconcileProperty(truth)
{
    public override string Label => PropertyLabels.Duplicates;
}

/// <summary>Divergence: a consumer past the point where its timeline ended in the leader's history is reported diverged at that fork.</summary>
public sealed class DivergenceProperty(ReconcileTruth truth) : ReconcileProperty(truth)
{
    public override string Label => PropertyLabels.Divergence;
}

/// <summary>Current leader: every reconcile report is about the member that held the leader key during the step.</summary>
public sealed class CurrentLeaderProperty(ReconcileTruth truth) : ReconcileProperty(truth)
{
    public override string Label => PropertyLabels.CurrentLeader;
}

/// <summary>Failover slots (PostgreSQL 17, synchronized_standby_slots): a consumer never decodes WAL that a promoted standby lacks.</summary>
public sealed class FailoverSlotsProperty(ReconcileTruth truth) : ReconcileProperty(truth)
{
    public override string Label => PropertyLabels.FailoverSlots;
}
