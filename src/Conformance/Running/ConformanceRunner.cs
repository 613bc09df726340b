using System.Collections.Immutable;
using PatroniModel.Conformance.Comparing;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Scenarios.Histories;

namespace PatroniModel.Conformance.Running;

/// <summary>The comparison after one step.</summary>
public sealed record StepComparison(int Index, StepRecord Model, StepRecord Reality, bool Stable, ImmutableArray<string> Differences, IReadOnlyList<string> AllowedLeaders)
{
    public bool Agrees => Differences.IsEmpty;

    public override string ToString() => Agrees
        ? $"{Index,3} {Model.Result.Step}: agree"
        : $"{Index,3} {Model.Result.Step}: DISAGREE: {string.Join("; ", Differences)}";
}

/// <summary>A sequence run on the model and on reality, compared step by step.</summary>
public sealed record ConformanceReport(Sequence Sequence, SideHistory Model, SideHistory Reality, ImmutableArray<StepComparison> Steps)
{
    public StepComparison? FirstDisagreement => Steps.FirstOrDefault(s => !s.Agrees);

    public bool Agrees => FirstDisagreement is null;

    /// <summary>The verdict line.</summary>
    public string Verdict => FirstDisagreement is { } d
        ? $"verdict: DISAGREE at step {d.Index} ({d.Model.Result.Step}): {string.Join("; ", d.Differences)}"
        : $"verdict: model and reality agree on all {Steps.Length} steps";
}

/// <summary>
/// Runs one sequence on reality and on the model, step by step, and compares the observations under
/// <see cref="ObservationAbstraction"/>. Each step runs on reality first; when the model leaves the leader race open
/// (<see cref="ILeaderChoice"/>), it is told reality's leader so it follows reality's choice when that choice is allowed.
/// </summary>
public static class ConformanceRunner
{
    public static async Task<ConformanceReport> RunAsync(
        Sequence sequence, ICluster model, ICluster reality, Action<StepComparison>? onStep = null, CancellationToken cancellationToken = default)
    {
        var modelInitial = await model.ObserveAsync(cancellationToken).ConfigureAwait(false);
        var realInitial = await reality.ObserveAsync(cancellationToken).ConfigureAwait(false);
        var modelEntries = ImmutableArray.CreateBuilder<StepRecord>();
        var realEntries = ImmutableArray.CreateBuilder<StepRecord>();
        var comparisons = ImmutableArray.CreateBuilder<StepComparison>();
        var choice = model as ILeaderChoice;
        var syncSource = reality as ISyncStandbySource;
        choice?.PreferSyncStandby(syncSource?.SyncStandby);
        Observation modelStable = modelInitial, realStable = realInitial;
        var previousStable = true;
        for (var i = 0; i < sequence.Steps.Length; i++)
        {
            var step = sequence.Steps[i];
            var real = await SideRunner.RunStepAsync(reality, i, step, realEntries.Count == 0 ? realInitial : realEntries[^1].After, cancellationToken).ConfigureAwait(false);
            choice?.PreferLeader(real.After.Leader);
            choice?.PreferSyncStandby(syncSource?.SyncStandby);
            var modelled = await SideRunner.RunStepAsync(model, i, step, modelEntries.Count == 0 ? modelInitial : modelEntries[^1].After, cancellationToken).ConfigureAwait(false);
            var stable = step is Scenarios.Faults.Settle || (previousStable && !ObservationAbstraction.IsTopologyStep(step));
            var allowed = choice?.LastAllowedLeaders ?? [];
            var differences = ObservationAbstraction.Compare(
                modelled.Result, modelled.After, modelStable, real.Result, real.After, realStable, stable, allowed);
            var comparison = new StepComparison(i, modelled, real, stable, differences, allowed);
            comparisons.Add(comparison);
            modelEntries.Add(modelled);
            realEntries.Add(real);
            onStep?.Invoke(comparison);
            if (stable)
            {
                modelStable = modelled.After;
                realStable = real.After;
            }
            previousStable = stable;
        }
        return new ConformanceReport(
            sequence,
            new SideHistory("model", modelInitial, modelEntries.ToImmutable()),
            new SideHistory("reality", realInitial, realEntries.ToImmutable()),
            comparisons.ToImmutable());
    }
}
