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
/// PostgreSQL 17 failover slots on the model: generated sequences keep every property, and the failover-slot property
/// (with synchronized_standby_slots the consumer never decodes WAL a promoted standby lacks) has teeth against a model
/// that ignores synchronized_standby_slots.
/// </summary>
public sealed class FailoverSlotPropertyTests(ModelRuntimeFixture fixture, ITestOutputHelper output) : IClassFixture<ModelRuntimeFixture>
{
    /// <summary>pg2 cut off while rows are written and decoded, back just as the leader dies: it is promoted without those rows.</summary>
    private static readonly Sequence StandbyBehindAtTheFailover = new(
        ClusterConfig.Default with { PostgresMajor = 17, SynchronizedStandbySlots = true },
        [
            new CreateSlot("s1"), new Partition("pg2"), new Freeze("pg3"), new Write(3), new Consume("s1"), new Wait(5),
            new Heal("pg2"), new Kill("pg1"), new Wait(30), new Thaw("pg3"), new Settle(), new Reconcile("s1"),
        ]);

    [Fact]
    public void FailoverSlots_OnTheCorrectModel_TheConsumerWaitsForTheStandbyThatIsPromoted()
    {
        // Given the correct model
        var factory = new ModelClusterFactory(fixture.Runtime);

        // When pg2 misses rows the leader wrote and the consumer asked for, and is promoted when the leader dies
        var outcome = SequenceRunner.Run(factory, StandbyBehindAtTheFailover);

        // Then the consumer was held back, pg2 was promoted, and nothing diverged
        Assert.True(outcome.Passed, $"{outcome.Violation}\n{outcome.History()}");
        Assert.StartsWith("waiting for synchronized_standby_slots: pg2", outcome.Steps[4].Result.Detail, StringComparison.Ordinal);
        Assert.Equal("pg2", outcome.Steps[^1].After.Leader);
        Assert.NotEqual(PatroniModel.Scenarios.Observations.ReconcileOutcome.Diverged, outcome.Steps[^1].Result.Reconcile!.Outcome);
    }

    [Fact]
    public void FailoverSlots_WithThePlantedIgnoreSynchronizedStandbySlotsBug_FailsWithPhantoms()
    {
        // Given a model whose primary decodes failover slots to the end of WAL regardless of synchronized_standby_slots
        var factory = new ModelClusterFactory(fixture.Runtime, new ModelOptions { PlantedBugIgnoreSynchronizedStandbySlots = true });

        // When the same episode runs
        var outcome = SequenceRunner.Run(factory, StandbyBehindAtTheFailover);

        // Then the failover-slot property fails at the reconcile: the consumer decoded past the promoted standby's fork
        Assert.Equal(PropertyLabels.FailoverSlots, outcome.Violation?.Label);
        Assert.Equal(StandbyBehindAtTheFailover.Steps.Length - 1, outcome.Violation!.StepIndex);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(400)]
    public void Explore_Postgres17FailoverSlotSequences_EveryPropertyHolds(int replicationDelayMilliseconds)
    {
        // Given the model on PostgreSQL 17, streaming at once or with up to 400 ms of replication lag per record
        var explorer = new Explorer(new ModelClusterFactory(fixture.Runtime, new ModelOptions { MaxReplicationDelayMilliseconds = replicationDelayMilliseconds }));

        // When 2,000 failover-slot sequences run (half with synchronized_standby_slots; members killed, frozen, cut off)
        var report = explorer.Explore(new ExplorationSettings(ModelExplorationTests.DefaultSeed, 2_000), generator: Explorer.FailoverSlotArbitrary);

        // Then every property holds on every step
        output.WriteLine($"PostgreSQL 17 failover-slot sequences, replication delay up to {replicationDelayMilliseconds} ms: {report.SummaryWithRate()}");
        if (report.Failure is { } failure)
        {
            Assert.Fail(failure.Format(failure.Save()));
        }
        Assert.Equal(2_000, report.Sequences);
    }
}
