using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Exploration.Properties;

/// <summary>Convergence: after every fault is healed and the cluster settled, every member's digest equals the leader's.</summary>
public sealed class ConvergenceProperty : IProperty
{
    public string Label => PropertyLabels.Convergence;

    public PropertyViolation? Check(PropertyStep step) => Check(step.Index, step.Step, step.After);

    private static PropertyViolation? Check(int index, Step? step, Observation after)
    {
        if (step is not Settle || !RunRecord.AllRunning(after) || after.LeaderMember is not { } leader)
        {
            return null;
        }
        var differing = after.Members.Where(m => m.Digest != leader.Digest).ToList();
        return differing.Count == 0
            ? null
            : new PropertyViolation(PropertyLabels.Convergence, index,
                $"after settle, {string.Join(", ", differing.Select(m => $"{m.Name} ({m.Rows} rows, {Short(m.Digest)})"))} differ from leader {leader.Name} ({leader.Rows} rows, {Short(leader.Digest)})");
    }

    private static string Short(string digest) => digest.Length > 8 ? digest[..8] : digest;
}
