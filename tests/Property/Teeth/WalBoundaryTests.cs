using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Exploring;
using PatroniModel.Exploration.Generation;
using PatroniModel.Exploration.Properties;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Scenarios.Wal;
using PatroniModel.Tests.Property.Exploration;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.Property.Teeth;

/// <summary>
/// WAL that starts near a digit boundary of <c>X/Y</c> (<see cref="SequenceGenerators.WalBoundarySequences"/>): every
/// property holds with the product's reconciler, and a reconciler that compares positions as text is found.
/// </summary>
public sealed class WalBoundaryTests(ModelRuntimeFixture fixture, ITestOutputHelper output) : IClassFixture<ModelRuntimeFixture>
{
    private static readonly string[] ReconcileLabels =
        [PropertyLabels.CurrentLeader, PropertyLabels.GapExactness, PropertyLabels.NoFalseAlarm, PropertyLabels.Duplicates, PropertyLabels.Divergence];

    [Fact]
    public void Reconcile_OnAClusterStartedBelow1_0_MeasuresTheGapAcrossIt()
    {
        // Given a cluster whose WAL starts at 0/FFFFFF00, a consumer position there, and a switchover after WAL crossed 1/0
        var config = ClusterConfig.Default with { InitialWal = Lsn.Parse("0/FFFFFF00") };
        var sequence = new Sequence(config, [new CreateSlot("s1"), new Write(2), new Switchover("pg1", "pg2"), new AdvanceWal(4096), new Reconcile("s1")]);

        // When it runs on the model
        var outcome = SequenceRunner.Run(new ModelClusterFactory(fixture.Runtime), sequence);

        // Then the slot was created below 1/0 and the gap runs from there across 1/0, exactly
        Assert.True(outcome.Passed, $"{outcome.Violation}\n{outcome.History()}");
        var report = outcome.Steps[^1].Result.Reconcile!;
        Assert.Equal(ReconcileOutcome.RecreatedWithGap, report.Outcome);
        Assert.Equal(0UL, report.GapStart!.Value.Value >> 32);
        Assert.Equal(1UL, report.GapEnd!.Value.Value >> 32);
        Assert.Equal((long)(report.GapEnd.Value.Value - report.GapStart.Value.Value), report.GapBytes);
    }

    [Fact]
    public void Explore_WalBoundarySequencesWithTheRealReconciler_EveryPropertyHolds()
    {
        // Given the model and the product's reconciler
        var explorer = new Explorer(new ModelClusterFactory(fixture.Runtime));

        // When 500 sequences run with WAL starting just below 0/10000000, 1/0 or 10/0
        var report = explorer.Explore(new ExplorationSettings(ModelExplorationTests.DefaultSeed, 500), generator: Explorer.WalBoundaryArbitrary);

        // Then every property holds on every step
        output.WriteLine($"WAL boundary sequences: {report.SummaryWithRate()}");
        if (report.Failure is { } failure)
        {
            Assert.Fail(failure.Format(failure.Save()));
        }
        Assert.Equal(500, report.Sequences);
    }

    [Fact]
    public void Explore_WithATextOrderReconcilerOnWalBoundarySequences_FindsItAndKeepsTheBoundaryStart()
    {
        // Given a reconciler that compares LSNs as X/Y text
        var explorer = new Explorer(new ModelClusterFactory(fixture.Runtime, new ModelOptions { ReconcilerFactory = WrongReconcilers.TextOrder }));

        // When the WAL boundary sequences run
        var report = explorer.Explore(new ExplorationSettings(Seed: 4, Runs: 2_000), generator: Explorer.WalBoundaryArbitrary);

        // Then a reconcile property fails, quickly, and the shrunk sequence still starts near a boundary (without it, it passes)
        output.WriteLine(report.SummaryWithRate());
        Assert.True(report.Failure is not null, $"the text-order reconciler was not found: {report.Summary()}");
        output.WriteLine($"first failure after {report.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(report.Failure.Format());
        Assert.Contains(report.Failure.Shrunk.Violation!.Label, ReconcileLabels);
        Assert.Contains(report.Failure.Shrunk.Sequence.Config.InitialWal!.Value, SequenceGenerators.WalBoundaryStarts);
        Assert.InRange(report.Failure.Shrunk.Sequence.Steps.Length, 1, 8);
    }

    [Fact]
    public void WalBoundarySequences_ReplayFromTheirSeed_WithTheirStart()
    {
        // Given the replay point of a WAL boundary sequence
        var first = GeneratedSequences.PointOf(ModelExplorationTests.DefaultSeed, null, 3);

        // When it is regenerated from its seed, and written and read back as a file
        var sequence = SeedReplay.Regenerate(first.ToString(), SequenceFamily.WalBoundaries);
        var again = SeedReplay.Regenerate(first.ToString(), SequenceFamily.WalBoundaries);
        var file = SequenceFile.Parse(SequenceFile.Write(sequence));

        // Then it starts at a boundary, the same one each time and in its file
        Assert.Contains(sequence.Config.InitialWal!.Value, SequenceGenerators.WalBoundaryStarts);
        Assert.Equal(SequenceDigest.Of(sequence), SequenceDigest.Of(again));
        Assert.Equal(sequence.Config, file.Config);
    }
}
