using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Properties;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Sequences;
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
        [PropertyLabels.CurrentLeader, PropertyLabels.GapExactness, PropertyLabels.NoFalseAlarm, PropertyLabels.Duplicates, PropertyLabels.Divergence];

    public static TheoryData<string> Wrong => ["gap from restart_lsn", "existence only", "cached leader"];

    private static Func<IPatroniEndpoint, ISlotReconciler> WrongReconciler(string which) => which switch
    {
        "existence only" => WrongReconcilers.ExistenceOnly,
        "cached leader" => WrongReconcilers.CachedLeader,
        _ => WrongReconcilers.GapFromRestartLsn,
    };

    [Fact]
    public void CurrentLeader_AReconcilerThatCachedTheLeader_IsJudgedOnTheStepItReportsAStaleMember()
    {
        // Given the model with a reconciler that remembers the leader of its first call, and a permanent slot that Patroni
        // copies to every replica
        var factory = new ModelClusterFactory(fixture.Runtime, new ModelOptions { ReconcilerFactory = WrongReconcilers.CachedLeader });
        var sequence = new Sequence(ClusterConfig.Default with { PermanentSlots = ["s1"] },
            [new Reconcile("s1"), new Switchover("pg1", "pg2"), new Reconcile("s1")]);

        // When the reconciler runs before and after a switchover
        var outcome = SequenceRunner.Run(factory, sequence);

        // Then its second report finds the slot's copy on the ex-leader pg1, and the checker judges that step
        Assert.Equal("pg1", outcome.Steps[^1].Result.Reconcile?.Leader);
        Assert.Equal(PropertyLabels.CurrentLeader, outcome.Violation?.Label);
        Assert.Equal(2, outcome.Violation!.StepIndex);
    }

    [Theory]
    [MemberData(nameof(Wrong))]
    public void Explore_WithAWrongReconcilerOnTheModel_FindsItAndShrinksToAtMostSixSteps(string which)
    {
        // Given the model with a deliberately wrong reconciler
        var explorer = new Explorer(new ModelClusterFactory(fixture.Runtime, new ModelOptions { ReconcilerFactory = WrongReconciler(which) }));

        // When the suite explores (the model keeps one reconciler per cluster, as a consumer does)
        var report = explorer.Explore(new ExplorationSettings(Seed: 4, Runs: 3_000));

        // Then a reconcile property fails, and the counterexample is short
        output.WriteLine(report.SummaryWithRate());
        output.WriteLine($"first failure after {report.Elapsed.TotalSeconds:F1} s");
        Assert.True(report.Failure is not null, $"the suite did not find the wrong reconciler '{which}': {report.Summary()}");
        output.WriteLine(report.Failure.Format());
        Assert.Contains(report.Failure.Shrunk.Violation!.Label, ReconcileLabels);
        Assert.InRange(report.Failure.Shrunk.Sequence.Steps.Length, 1, 6);
    }
}
