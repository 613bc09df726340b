using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Properties;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Scenarios.Histories;

namespace PatroniModel.Exploration.Running;

/// <summary>How one sequence went: every step's record and the first property violation, if any.</summary>
/// <param name="Trace">The cluster's event trace, kept only for a failing run (evidence).</param>
public sealed record RunOutcome(Sequence Sequence, IReadOnlyList<StepRecord> Steps, PropertyViolation? Violation, string Trace = "")
{
    public bool Passed => Violation is null;

    /// <summary>The record of the step after which the violation was seen (null when it was seen before the first step or the run passed).</summary>
    public StepRecord? FailingStep => Violation is { StepIndex: >= 0 } v && v.StepIndex < Steps.Count ? Steps[v.StepIndex] : null;

    /// <summary>One line per step: <c>  3 kill pg1 => ok</c>, the failing one marked with the property's label.</summary>
    public string History() => string.Join('\n', Steps.Select(s =>
        Violation is { } v && v.StepIndex == s.Index ? $"{s}   <-- {v.Label}" : s.ToString()));
}

/// <summary>Runs a sequence on a fresh cluster, checking every property after every step, and stops at the first violation.</summary>
public static class SequenceRunner
{
    /// <summary>
    /// The seed of the cluster's own randomness: the model's <see cref="Model.ModelCluster.DefaultSeed"/>, fixed, so that a
    /// sequence file alone (no seed field) replays the run exactly.
    /// </summary>
    public const int ClusterSeed = Model.ModelCluster.DefaultSeed;

    public static RunOutcome Run(ISimulatedClusterFactory factory, Sequence sequence)
    {
        var records = new List<StepRecord>(sequence.Steps.Length);
        ISimulatedCluster? cluster = null;
        var index = -1;
        try
        {
            cluster = factory.Create(sequence.Config, ClusterSeed);
            var checker = new PropertyChecker(cluster);
            var before = cluster.Observe();
            var violation = checker.Start(before);
            for (index = 0; violation is null && index < sequence.Steps.Length; index++)
            {
                var step = sequence.Steps[index];
                var result = cluster.Apply(step);
                var after = cluster.Observe();
                records.Add(new StepRecord(index, result, before, after));
                violation = checker.Check(index, step, result, before, after);
                before = after;
            }
            return violation is null
                ? new RunOutcome(sequence, records, null)
                : new RunOutcome(sequence, records, violation, SafeTrace(cluster));
        }
        catch (Exception e)
        {
            var violation = new PropertyViolation(PropertyLabels.Crash, index,
                $"{e.GetType().Name} at step {index} ({(index >= 0 && index < sequence.Steps.Length ? sequence.Steps[index] : "setup")}): {FirstLine(e.Message)}");
            return new RunOutcome(sequence, records, violation, (cluster is null ? "" : SafeTrace(cluster)) + "\n" + e);
        }
        finally
        {
            cluster?.Dispose();
        }
    }

    private static string SafeTrace(ISimulatedCluster cluster)
    {
        try
        {
            return cluster.TraceText();
        }
        catch (Exception e)
        {
            return $"(no trace: {e.Message})";
        }
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
