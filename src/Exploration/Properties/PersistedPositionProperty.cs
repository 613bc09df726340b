using PatroniModel.Exploration.Clusters;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using CreateSlotStep = PatroniModel.Scenarios.Faults.CreateSlot;

namespace PatroniModel.Exploration.Properties;

/// <summary>
/// Persisted position: outside a consume of its slot, the consumer's persisted position never moves backwards (nor is
/// forgotten); and a reconcile never reports a consumer that holds phantoms as anything but diverged: when a position the
/// consumer persisted since it last consumed or created the slot lies past where that position's timeline ended in the
/// leader's history, the report says diverged, whatever the consumer's position says now.
/// </summary>
/// <remarks>
/// The divergence property judges the position the reconciler is handed; this one judges the consumer over time, so a
/// consumer that adopted a slot behind it, or re-stamped its position with the leader's timeline, can't hide a
/// divergence that was reported (or would have been) from the reconciler and from the suite.
/// </remarks>
public sealed class PersistedPositionProperty(RunRecord run) : IProperty
{
    /// <summary>Per slot, every position the consumer persisted since it last consumed or created that slot.</summary>
    private readonly Dictionary<string, List<ConsumerPosition>> _heldSince = new(StringComparer.Ordinal);

    public string Label => PropertyLabels.PersistedPosition;

    public PropertyViolation? Check(PropertyStep step)
    {
        if (step.Step is not { } current)
        {
            return null;
        }
        Remember(step.Before);
        var violation = MovedBack(step.Index, current, step.Before, step.After) ?? HiddenDivergence(step.Index, current, step.Result!, step.Before);
        var restarted = current switch
        {
            Consume consume => consume.SlotName,
            CreateSlotStep create => create.SlotName,
            _ => null,
        };
        if (step.Result?.Status == StepStatus.Ok && restarted is not null)
        {
            // The client read from the slot (or made a new one): what the consumer holds now starts there.
            _heldSince.Remove(restarted);
        }
        Remember(step.After);
        return violation;
    }

    private static PropertyViolation? MovedBack(int index, Step step, Observation before, Observation after)
    {
        if (before.Consumers.IsDefaultOrEmpty)
        {
            return null;
        }
        foreach (var was in before.Consumers)
        {
            if (step is Consume consume && consume.SlotName == was.Slot)
            {
                continue;
            }
            var now = after.Consumers.IsDefaultOrEmpty ? null : after.Consumers.FirstOrDefault(c => c.Slot == was.Slot);
            if (now is null || now.LastConfirmed < was.LastConfirmed)
            {
                return new PropertyViolation(PropertyLabels.PersistedPosition, index,
                    $"the consumer's persisted position on {was.Slot} moved back from {was.LastConfirmed}/tl{was.Timeline} to "
                    + $"{(now is null ? "none" : $"{now.LastConfirmed}/tl{now.Timeline}")} at a '{step.Kind}' step (only a consume of {was.Slot} may move it back)");
            }
        }
        return null;
    }

    private PropertyViolation? HiddenDivergence(int index, Step step, StepResult result, Observation before)
    {
        if (step is not Reconcile { LastConfirmed: null } reconcile || result.Reconcile is not { } report
            || report.Outcome is ReconcileOutcome.Diverged or ReconcileOutcome.Error
            || before.LeaderMember is not { } leader || report.Leader != leader.Name
            || !_heldSince.TryGetValue(reconcile.SlotName, out var held))
        {
            return null;
        }
        IReadOnlyList<TimelineEnd>? history = null;
        foreach (var position in held.Where(p => p.Timeline != leader.Timeline))
        {
            history ??= run.Cluster.TimelineHistory(leader.Name, leader.Timeline);
            if (history is null)
            {
                return null;
            }
            var ended = history.FirstOrDefault(h => h.Timeline == position.Timeline);
            if (ended is null || position.LastConfirmed > ended.SwitchPoint)
            {
                return new PropertyViolation(PropertyLabels.PersistedPosition, index,
                    $"the consumer persisted {position.LastConfirmed} on timeline {position.Timeline} since it last consumed {reconcile.SlotName}, past where that "
                    + $"timeline ended ({RunRecord.Show(ended?.SwitchPoint)}) in {leader.Name}'s timeline {leader.Timeline}: it holds phantoms, "
                    + $"but the reconciler reported: {report}");
            }
        }
        return null;
    }

    private void Remember(Observation observation)
    {
        if (observation.Consumers.IsDefaultOrEmpty)
        {
            return;
        }
        foreach (var position in observation.Consumers)
        {
            if (!_heldSince.TryGetValue(position.Slot, out var held))
            {
                _heldSince[position.Slot] = held = [];
            }
            if (!held.Contains(position))
            {
                held.Add(position);
            }
        }
    }
}
