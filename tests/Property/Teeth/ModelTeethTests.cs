using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Properties;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Tests.Property.Exploration;
using Xunit;
using Xunit.Abstractions;
using PatroniModel.Exploration.Exploring;

namespace PatroniModel.Tests.Property.Teeth;

/// <summary>
/// The suite has teeth: a deliberately wrong reconciler plugged into the model through <see cref="ModelOptions.ReconcilerFactory"/>
/// is found by the same generators and properties, and shrunk to at most 6 steps.
/// </summary>
public sealed class ModelTeethTests(ModelRuntimeFixture fixture, ITestOutputHelper output) : IClassFixture<ModelRuntimeFixture>
{
    private static readonly string[] ReconcileLabels =
        [PropertyLabels.GapExactness, PropertyLabels.NoFalseAlarm, PropertyLabels.Duplicates, PropertyLabels.Divergence];

    public static TheoryData<string> Wrong => ["gap from restart_lsn", "existence only"];

    [Theory]
    [MemberData(nameof(Wrong))]
    public void Explore_WithAWrongReconcilerOnTheModel_FindsItAndShrinksToAtMostSixSteps(string which)
    {
        // Given the model with a deliberately wrong reconciler
        Func<IPatroniEndpoint, ISlotReconciler> wrong = which == "existence only" ? WrongReconcilers.ExistenceOnly : WrongReconcilers.GapFromRestartLsn;
        var explorer = new Explorer(new ModelClusterFactory(fixture.Runtime, new ModelOptions { ReconcilerFactory = wrong }));

        // When the suite explores
        var report = explorer.Explore(new ExplorationSettings(Seed: 4, Runs: 3_000));

        // Then a reconcile property fails, and the counterexample is short
        output.WriteLine(report.SummaryWithRate());
        Assert.True(report.Failure is not null, $"the suite did not find the wrong reconciler '{which}': {report.Summary()}");
        output.WriteLine(report.Failure.Format());
        Assert.Contains(report.Failure.Shrunk.Violation!.Label, ReconcileLabels);
        Assert.InRange(report.Failure.Shrunk.Sequence.Steps.Length, 1, 6);
    }
}
