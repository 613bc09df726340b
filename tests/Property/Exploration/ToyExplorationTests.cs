using PatroniModel.Exploration.Properties;
using PatroniModel.Exploration.Running;
using PatroniModel.Tests.Property.Teeth;
using PatroniModel.Tests.Property.Toy;
using Xunit;
using Xunit.Abstractions;
using PatroniModel.Exploration.Exploring;

namespace PatroniModel.Tests.Property.Exploration;

/// <summary>
/// The exploration machinery (FsCheck generation, the eight properties, the shrinker) against the small hand-written
/// <see cref="ToyCluster"/>: the real reconciler passes, deliberately wrong ones and planted cluster bugs are found and shrunk.
/// </summary>
public sealed class ToyExplorationTests(ITestOutputHelper output)
{
    [Fact]
    public void Explore_OnToyClusterWithTheRealReconciler_FindsNoFailure()
    {
        // Given the toy cluster and the product's reconciler
        var explorer = new Explorer(new ToyClusterFactory());

        // When a thousand generated sequences run
        var report = explorer.Explore(new ExplorationSettings(Seed: 7, Runs: 1_000));

        // Then every property holds
        output.WriteLine(report.SummaryWithRate());
        Assert.True(report.Failure is null, report.Failure?.Format());
        Assert.Equal(1_000, report.Sequences);
    }

    [Theory]
    [InlineData("gap from restart_lsn")]
    [InlineData("existence only")]
    [InlineData("cached leader")]
    public void Explore_WithAWrongReconcilerOnToyCluster_FindsItAndShrinksToAtMostEightSteps(string which)
    {
        // Given a deliberately wrong reconciler plugged into the toy cluster (which keeps one for its whole life)
        var factory = new ToyClusterFactory(which switch
        {
            "existence only" => WrongReconcilers.ExistenceOnly,
            "cached leader" => WrongReconcilers.CachedLeader,
            _ => WrongReconcilers.GapFromRestartLsn,
        });

        // When the suite explores
        var report = new Explorer(factory).Explore(new ExplorationSettings(Seed: 11, Runs: 2_000));

        // Then it fails a reconcile property and shrinks to a short sequence
        Assert.NotNull(report.Failure);
        output.WriteLine(report.Failure.Format());
        Assert.Contains(report.Failure.Shrunk.Violation!.Label,
            new[] { PropertyLabels.CurrentLeader, PropertyLabels.GapExactness, PropertyLabels.NoFalseAlarm, PropertyLabels.Duplicates });
        // (7 steps seen: "switchover pg1->pg3 ... freeze pg3" is one leader loss the step-wise shrinker can't fold into "freeze pg1")
        Assert.InRange(report.Failure.Shrunk.Sequence.Steps.Length, 1, 8);
    }

    [Fact]
    public void Explore_WhenTheToyLosesARowOnPromotion_FindsConvergenceOrDurabilityAndShrinks()
    {
        // Given a toy cluster whose promoted member forgets its last row
        var factory = new ToyClusterFactory(bugs: new ToyBugs(ForgetLastRowOnPromotion: true));

        // When the suite explores
        var report = new Explorer(factory).Explore(new ExplorationSettings(Seed: 3, Runs: 2_000));

        // Then it fails a data property and shrinks to a handful of steps
        Assert.NotNull(report.Failure);
        output.WriteLine(report.Failure.Format());
        Assert.Contains(report.Failure.Shrunk.Violation!.Label, new[] { PropertyLabels.Durability, PropertyLabels.Convergence });
        Assert.InRange(report.Failure.Shrunk.Sequence.Steps.Length, 1, 6);
    }
}
