using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Properties;
using PatroniModel.Exploration.Running;
using PatroniModel.Scenarios.Histories;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Cli.Commands;

/// <summary>How a replay on the model went: the outcome of the steps that ran, and whether Ctrl-C or SIGTERM stopped it first.</summary>
public sealed record ModelReplayResult(RunOutcome Outcome, bool Stopped);

/// <summary>
/// <c>replay</c>'s run on the model: what <see cref="SequenceRunner.Run"/> does (a fresh cluster with
/// <see cref="SequenceRunner.ClusterSeed"/>, every property checked after every step, the first violation ends the run),
/// step by step for a person watching: each step's record goes to the caller as the step ends, and a cancelled token
/// stops the run between two steps. The explorer keeps the runner's tight loop; this one is for a single sequence.
/// </summary>
public static class ModelReplay
{
    public static ModelReplayResult Run(
        ISimulatedClusterFactory factory, Sequence sequence, Action<Observation> onStart, Action<StepRecord, PropertyViolation?> onStep,
        CancellationToken cancellationToken = default)
    {
        var records = new List<StepRecord>(sequence.Steps.Length);
        ISimulatedCluster? cluster = null;
        var index = -1;
        try
        {
            cluster = factory.Create(sequence.Config, SequenceRunner.ClusterSeed);
            var checker = new PropertyChecker(cluster);
            var before = cluster.Observe();
            onStart(before);
            var violation = checker.Start(before);
            for (index = 0; violation is null && index < sequence.Steps.Length; index++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return new ModelReplayResult(new RunOutcome(sequence, records, null), Stopped: true);
                }
                var step = sequence.Steps[index];
                var result = cluster.Apply(step);
                var after = cluster.Observe();
                var record = new StepRecord(index, result, before, after);
                records.Add(record);
                violation = checker.Check(index, step, result, before, after);
                onStep(record, violation);
                before = after;
            }
            return new ModelReplayResult(
                violation is null ? new RunOutcome(sequence, records, null) : new RunOutcome(sequence, records, violation, Trace(cluster)),
                Stopped: false);
        }
        catch (Exception e) when (e is not IOException)
        {
            // As the runner: a crash of the model is a property failure naming the step it happened in, not a stack trace.
            var crash = new PropertyViolation(PropertyLabels.Crash, index,
                $"{e.GetType().Name} at step {index} ({(index >= 0 && index < sequence.Steps.Length ? sequence.Steps[index] : "setup")}): {e.Message.Split('\n')[0].Trim()}");
            return new ModelReplayResult(new RunOutcome(sequence, records, crash, (cluster is null ? "" : Trace(cluster)) + "\n" + e), Stopped: false);
        }
        finally
        {
            cluster?.Dispose();
        }
    }

    private static string Trace(ISimulatedCluster cluster)
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
}
