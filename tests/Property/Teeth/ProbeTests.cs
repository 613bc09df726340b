using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Exploring;
using PatroniModel.Exploration.Generation;
using PatroniModel.Exploration.Properties;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.Property.Exploration;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.Property.Teeth;

/// <summary>
/// <c>reconcile ... last_confirmed</c> probes from before and after every slot (<see cref="SequenceGenerators.ProbeSequences"/>):
/// every outcome but diverged is produced, re-created without a gap among them, every property holds with the product's
/// reconciler, and a reconciler that calls a slot re-created behind the consumer a gap is found.
/// </summary>
public sealed class ProbeTests(ModelRuntimeFixture fixture, ITestOutputHelper output) : IClassFixture<ModelRuntimeFixture>
{
    private const int Runs = 300;

    [Fact]
    public void ProbeSequences_OnTheModel_ProduceRecreatedNoGapAndEveryPropertyHolds()
    {
        // Given the first probe sequences of the default seed
        var factory = new ModelClusterFactory(fixture.Runtime);
        var outcomes = new Dictionary<ReconcileOutcome, int>();

        // When they run with the product's reconciler
        for (var i = 0; i < Runs; i++)
        {
            var sequence = GeneratedSequences.At(Explorer.ProbeArbitrary, ModelExplorationTests.DefaultSeed, null, i);
            var outcome = SequenceRunner.Run(factory, sequence);
            Assert.True(outcome.Passed, $"sequence {i}: {outcome.Violation}\n{outcome.History()}");
            foreach (var report in outcome.Steps.Select(s => s.Result.Reconcile).OfType<ReconcileObservation>())
            {
                outcomes[report.Outcome] = outcomes.GetValueOrDefault(report.Outcome) + 1;
            }
        }

        // Then every property held, and the reconciles reported re-created without a gap as well as every other outcome
        output.WriteLine(string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        foreach (var expected in new[] { ReconcileOutcome.Found, ReconcileOutcome.FoundAhead, ReconcileOutcome.RecreatedWithGap, ReconcileOutcome.RecreatedNoGap, ReconcileOutcome.Created })
        {
            Assert.True(outcomes.GetValueOrDefault(expected) > 0, $"no {expected} in {Runs} probe sequences");
        }
    }

    [Fact]
    public void Explore_WithAReconcilerThatReportsEveryReCreatedSlotAsAGap_FindsItOnProbeSequences()
    {
        // Given a reconciler that calls every re-created slot a gap, even one re-created behind the consumer
        var explorer = new Explorer(new ModelClusterFactory(fixture.Runtime, new ModelOptions { ReconcilerFactory = e => new AlwaysAGap(e) }));

        // When the probe sequences run
        var report = explorer.Explore(new ExplorationSettings(Seed: 4, Runs: 2_000), generator: Explorer.ProbeArbitrary);

        // Then the no-false-alarm property fails at a probe from after the slot
        output.WriteLine(report.SummaryWithRate());
        Assert.True(report.Failure is not null, $"not found: {report.Summary()}");
        output.WriteLine($"first failure after {report.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(report.Failure.Format());
        Assert.Equal(PropertyLabels.NoFalseAlarm, report.Failure.Shrunk.Violation?.Label);
        var failing = report.Failure.Shrunk.Sequence.Steps[report.Failure.Shrunk.Violation!.StepIndex];
        Assert.NotNull(Assert.IsType<Reconcile>(failing).LastConfirmed);
    }

    private sealed class AlwaysAGap(IPatroniEndpoint endpoint) : ISlotReconciler
    {
        private readonly SlotReconciler inner = new(endpoint);

        public async Task<SlotReport> EnsureSlotAsync(string slot, ConfirmedPosition? lastConfirmed, CancellationToken cancellationToken = default)
        {
            var report = await inner.EnsureSlotAsync(slot, lastConfirmed, cancellationToken);
            return report.Outcome == SlotOutcome.RecreatedNoGap
                ? report with { Outcome = SlotOutcome.RecreatedWithGap, Gap = new WalGap(report.SlotPosition!.Value, lastConfirmed!.Lsn) }
                : report;
        }
    }
}
