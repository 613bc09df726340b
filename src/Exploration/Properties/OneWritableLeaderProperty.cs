using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Exploration.Properties;

/// <summary>One writable leader: no two members accept writes at once, except a thawed ex-leader inside the bounded frozen-leader window.</summary>
public sealed class OneWritableLeaderProperty(RunRecord run) : IProperty
{
    public string Label => PropertyLabels.OneWritableLeader;

    public PropertyViolation? Check(PropertyStep step) => Check(step.Index, step.After);

    private PropertyViolation? Check(int index, Observation observation)
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
            var inWindow = run.ThawedAt.TryGetValue(other.Name, out var thawed)
                           && observation.AtMilliseconds - thawed <= run.FrozenLeaderWindowMilliseconds;
            if (!inWindow)
            {
                var why = run.ThawedAt.TryGetValue(other.Name, out var t)
                    ? $"{observation.AtMilliseconds - t} ms after its thaw, past the {run.FrozenLeaderWindowMilliseconds} ms frozen-leader window"
                    : "and it was never frozen";
                return new PropertyViolation(PropertyLabels.OneWritableLeader, index,
                    $"{other.Name} accepts writes on timeline {other.Timeline} while {newest.Name} does on timeline {newest.Timeline} at t={observation.AtMilliseconds}ms, {why}");
            }
        }
        return null;
    }
}
