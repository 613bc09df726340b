using System.Collections.Immutable;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Scenarios.Histories;

namespace PatroniModel.Conformance.Running;

/// <summary>What a sequence did on one side: the observation before the first step and one entry per step.</summary>
public sealed record SideHistory(string Side, Observation Initial, ImmutableArray<StepRecord> Entries)
{
    public Observation Before(int index) => index == 0 ? Initial : Entries[index - 1].After;
}

/// <summary>Runs a sequence on one cluster, observing after every step.</summary>
public static class SideRunner
{
    public static async Task<SideHistory> RunAsync(
        Sequence sequence, ICluster cluster, string side, Action<StepRecord>? onStep = null, CancellationToken cancellationToken = default)
    {
        var initial = await cluster.ObserveAsync(cancellationToken).ConfigureAwait(false);
        var entries = ImmutableArray.CreateBuilder<StepRecord>(sequence.Steps.Length);
        var before = initial;
        for (var i = 0; i < sequence.Steps.Length; i++)
        {
            var entry = await RunStepAsync(cluster, i, sequence.Steps[i], before, cancellationToken).ConfigureAwait(false);
            before = entry.After;
            entries.Add(entry);
            onStep?.Invoke(entry);
        }
        return new SideHistory(side, initial, entries.ToImmutable());
    }

    /// <summary>Applies <paramref name="step"/> and observes after it; <paramref name="before"/> is the observation before it.</summary>
    public static async Task<StepRecord> RunStepAsync(ICluster cluster, int index, Step step, Observation before, CancellationToken cancellationToken = default)
    {
        var result = await cluster.ApplyAsync(step, cancellationToken).ConfigureAwait(false);
        var after = await cluster.ObserveAsync(cancellationToken).ConfigureAwait(false);
        return new StepRecord(index, result, before, after);
    }
}
