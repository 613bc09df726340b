using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Properties;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Tests.Property.Exploration;
using Xunit;
using Xunit.Abstractions;
using PatroniModel.Exploration.Exploring;

namespace PatroniModel.Tests.Property.Teeth;

/// <summary>
/// The durability property has teeth against the model's planted bug (a replica lagging more than maximum_lag_on_failover
/// takes part in the leader race): on a sequence where the only candidate lags 2.5 MB written long before the failover,
/// the property holds on the correct model and fails with the bug planted.
/// </summary>
public sealed class PlantedModelBugTests(ModelRuntimeFixture fixture, ITestOutputHelper output) : IClassFixture<ModelRuntimeFixture>
{
    private static readonly Sequence LaggingOnlyCandidate = new(ClusterConfig.Default,
    [
        new Partition("pg2"), new Freeze("pg3"), new AdvanceWal(2_500_000), new Wait(30), new Heal("pg2"), new Kill("pg1"), new Wait(30),
    ]);

    [Fact]
    public void Durability_OnTheCorrectModel_HoldsWhenTheOnlyCandidateLagsTooFar()
    {
        // Given the correct model
        var factory = new ModelClusterFactory(fixture.Runtime);

        // When the only candidate lags 2.5 MB (more than maximum_lag_on_failover) as the leader dies
        var outcome = SequenceRunner.Run(factory, LaggingOnlyCandidate);

        // Then it is not promoted, and nothing is lost
        Assert.True(outcome.Passed, $"{outcome.Violation}\n{outcome.History()}");
        Assert.Null(outcome.Steps[^1].After.Leader);
    }

    [Fact]
    public void Durability_WithThePlantedPromoteBeyondMaximumLagBug_FailsWithTheLostBytes()
    {
        // Given the model with the planted bug
        var factory = new ModelClusterFactory(fixture.Runtime, new ModelOptions { PlantedBugPromoteBeyondMaximumLag = true });

        // When the only candidate lags 2.5 MB as the leader dies
        var outcome = SequenceRunner.Run(factory, LaggingOnlyCandidate);

        // Then the durability property fails: 2.5 MB lost, written long before the failover
        Assert.Equal(PropertyLabels.Durability, outcome.Violation?.Label);
        Assert.Contains("2500", outcome.Violation!.Message);
    }

    [Fact]
    public void Explore_LaggingCandidateEpisodesWithThePlantedBug_FindsDurabilityAndShrinksIt()
    {
        // Given the model with the planted bug
        var explorer = new Explorer(new ModelClusterFactory(fixture.Runtime, new ModelOptions { PlantedBugPromoteBeyondMaximumLag = true }));

        // When the suite explores the lagging-candidate episodes
        var report = explorer.Explore(new ExplorationSettings(Seed: 6, Runs: 2_000), generator: Explorer.LaggingCandidateArbitrary);

        // Then the durability property fails, on a short sequence
        Assert.True(report.Failure is not null, $"the planted bug was not found: {report.Summary()}");
        output.WriteLine(report.Failure.Format());
        Assert.Equal(PropertyLabels.Durability, report.Failure.Shrunk.Violation?.Label);
        Assert.InRange(report.Failure.Shrunk.Sequence.Steps.Length, 1, 8);
    }
}
