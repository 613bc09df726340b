using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Exploring;
using PatroniModel.Exploration.Properties;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Tests.Property.Exploration;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.Property.Teeth;

/// <summary>
/// The persisted-position property has teeth against a consumer that adopts the slot the reconciler reported when it is
/// behind the consumer or diverged (<see cref="ModelOptions.PlantedBugConsumerAdoptsReportedSlot"/>).
/// </summary>
public sealed class PersistedPositionPropertyTests(ModelRuntimeFixture fixture, ITestOutputHelper output) : IClassFixture<ModelRuntimeFixture>
{
    private static readonly ModelOptions AdoptsReportedSlot = new() { PlantedBugConsumerAdoptsReportedSlot = true };

    /// <summary>The leader dies before Patroni advanced the permanent slot's copies: the new leader's copy is behind the consumer.</summary>
    private static readonly Sequence SlotBehindAfterAFailover = new(
        ClusterConfig.Default with { Ttl = 6, LoopWait = 1, RetryTimeout = 2, PermanentSlots = ["s2"] },
        [new Write(1), new Consume("s2"), new Kill("pg1"), new Wait(8), new Reconcile("s2")]);

    /// <summary>
    /// pg2 misses rows the consumer decoded and is promoted when the leader dies: the consumer holds phantoms. WAL then moves
    /// past the consumer, so the slot the reconciler re-creates (reporting the divergence) is ahead of it; a second reconcile follows.
    /// </summary>
    private static readonly Sequence DivergedThenReconciledAgain = new(ClusterConfig.Default,
    [
        new CreateSlot("s1"), new Partition("pg2"), new Freeze("pg3"), new Write(3), new Consume("s1"), new Wait(5),
        new Heal("pg2"), new Kill("pg1"), new Wait(30), new Thaw("pg3"), new Settle(), new AdvanceWal(65_536),
        new Reconcile("s1"), new Reconcile("s1"),
    ]);

    [Fact]
    public void PersistedPosition_OnTheCorrectModel_HoldsWhenTheSlotIsBehindOrTheConsumerDiverged()
    {
        // Given the correct model
        var factory = new ModelClusterFactory(fixture.Runtime);

        // When a reconcile finds the slot behind the consumer, and (another run) reports a divergence twice
        var behind = SequenceRunner.Run(factory, SlotBehindAfterAFailover);
        var diverged = SequenceRunner.Run(factory, DivergedThenReconciledAgain);

        // Then the consumer keeps its position, and the divergence is reported both times
        Assert.True(behind.Passed, $"{behind.Violation}\n{behind.History()}");
        Assert.True(behind.Steps[^1].Result.Reconcile!.DuplicateBytes > 0, behind.History());
        Assert.True(diverged.Passed, $"{diverged.Violation}\n{diverged.History()}");
        Assert.Equal(ReconcileOutcome.Diverged, diverged.Steps[^2].Result.Reconcile!.Outcome);
        Assert.Equal(ReconcileOutcome.Diverged, diverged.Steps[^1].Result.Reconcile!.Outcome);
    }

    [Fact]
    public void PersistedPosition_WithAConsumerThatAdoptsASlotBehindIt_FailsAtThatReconcile()
    {
        // Given a consumer that adopts the slot the reconciler found behind it
        var factory = new ModelClusterFactory(fixture.Runtime, AdoptsReportedSlot);

        // When the reconcile after the failover finds the copy behind
        var outcome = SequenceRunner.Run(factory, SlotBehindAfterAFailover);

        // Then the property fails there: the persisted position moved back outside a consume
        Assert.Equal(PropertyLabels.PersistedPosition, outcome.Violation?.Label);
        Assert.Equal(SlotBehindAfterAFailover.Steps.Length - 1, outcome.Violation!.StepIndex);
        Assert.Contains("moved back", outcome.Violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PersistedPosition_WithAConsumerThatAdoptsTheSlotOfADivergence_FailsWhenTheNextReportSaysFound()
    {
        // Given a consumer that adopts the slot (and the leader's timeline) after a reported divergence
        var factory = new ModelClusterFactory(fixture.Runtime, AdoptsReportedSlot);

        // When the divergence is reported and the consumer is reconciled again
        var outcome = SequenceRunner.Run(factory, DivergedThenReconciledAgain);

        // Then its position moved forward, so nothing moved back, but the second report hides the phantoms it holds
        Assert.Equal(ReconcileOutcome.Diverged, outcome.Steps[^2].Result.Reconcile!.Outcome);
        Assert.Equal(PropertyLabels.PersistedPosition, outcome.Violation?.Label);
        Assert.Equal(DivergedThenReconciledAgain.Steps.Length - 1, outcome.Violation!.StepIndex);
        Assert.Contains("holds phantoms", outcome.Violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Explore_WithAConsumerThatAdoptsTheReportedSlot_FindsPersistedPositionAndShrinksIt()
    {
        // Given the model with the planted consumer bug
        var explorer = new Explorer(new ModelClusterFactory(fixture.Runtime, new ModelOptions { PlantedBugConsumerAdoptsReportedSlot = true }));

        // When the suite explores
        var report = explorer.Explore(new ExplorationSettings(Seed: 4, Runs: 3_000));

        // Then the persisted-position property fails, on a short sequence
        output.WriteLine(report.SummaryWithRate());
        Assert.True(report.Failure is not null, $"the planted bug was not found: {report.Summary()}");
        output.WriteLine($"first failure after {report.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(report.Failure.Format());
        Assert.Equal(PropertyLabels.PersistedPosition, report.Failure.Shrunk.Violation?.Label);
        Assert.InRange(report.Failure.Shrunk.Sequence.Steps.Length, 1, 8);
    }
}
