using System.Collections.Immutable;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Conformance.Running;

/// <summary>One step as it ran on one side (model or reality): the result and the observation after it.</summary>
public sealed record HistoryEntry(int Index, StepResult Result, Observation After)
{
    /// <summary>One line: <c>  3 kill pg1 => ok</c>.</summary>
    public override string ToString() => $"{Index,3} {Result}";
}

/// <summary>What a sequence did on one side: the observation before the first step and one entry per step.</summary>
public sealed record SideHistory(string Side, Observation Initial, ImmutableArray<HistoryEntry> Entries)
{
    public Observation Before(int index) => index == 0 ? Initial : Entries[index - 1].After;
}

/// <summary>Runs a sequence on one cluster, observing after every step.</summary>
public static class SideRunner
{
    public static async Task<SideHistory> RunAsync(
        Sequence sequence, ICluster cluster, string side, Action<HistoryEntry>? onStep = null, CancellationToken cancellationToken = default)
    {
        var initial = await cluster.ObserveAsync(cancellationToken).ConfigureAwait(false);
        var entries = ImmutableArray.CreateBuilder<HistoryEntry>(sequence.Steps.Length);
        for (var i = 0; i < sequence.Steps.Length; i++)
        {
            var entry = await RunStepAsync(cluster, i, sequence.Steps[i], cancellationToken).ConfigureAwait(false);
            entries.Add(entry);
            onStep?.Invoke(entry);
        }
        return new SideHistory(side, initial, entries.ToImmutable());
    }

    public static async Task<HistoryEntry> RunStepAsync(ICluster cluster, int index, Step step, CancellationToken cancellationToken = default)
    {
        var result = await cluster.ApplyAsync(step, cancellationToken).ConfigureAwait(false);
        var after = await cluster.ObserveAsync(cancellationToken).ConfigureAwait(false);
        return new HistoryEntry(index, result, after);
    }
}
