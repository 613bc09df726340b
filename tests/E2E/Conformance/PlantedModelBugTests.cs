using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>
/// The oracle catches a wrong model: with <see cref="ModelOptions.PlantedBugPromoteBeyondMaximumLag"/> the model promotes
/// a replica lagging beyond maximum_lag_on_failover, which real Patroni refuses. Reality runs once; its recorded history
/// is compared with the correct model (agreement) and with the planted-bug model (a disagreement at the write).
/// </summary>
[Collection(ConformanceCollection.Name)]
public sealed class PlantedModelBugTests(ConformanceTimings timings, ITestOutputHelper output)
{
    public const string File = "17-lagging-replica-not-promoted.json";

    [Fact]
    public async Task LaggingReplica_RealityAgreesWithTheCorrectModel_AndThePlantedBugIsReportedAsADisagreement()
    {
        // Given the lagging-replica sequence, run once on reality beside the correct model
        var sequence = ConformanceReplay.Load(File);
        var correct = await ConformanceReplay.RunAsync("17-lagging-replica", sequence, output, timings);

        // Then reality and the correct model agree: nobody is promoted and the last write fails on both
        Assert.True(correct.Agrees, correct.Verdict);
        Assert.NotEqual(StepStatus.Ok, correct.Reality.Entries[^1].Result.Status);

        // When reality's recorded history is compared with a model that promotes beyond maximum_lag_on_failover
        output.WriteLine("== the same real history against the planted-bug model");
        var planted = await ConformanceReplay.CompareWithModelAsync(
            sequence, correct.Reality, output, ModelOptions.Default with { PlantedBugPromoteBeyondMaximumLag = true });

        // Then the disagreement is reported at the write that the planted model acknowledged and reality did not
        var disagreement = planted.FirstDisagreement;
        Assert.True(disagreement is not null, $"the planted bug went unnoticed: {planted.Verdict}");
        var lastIndex = sequence.Steps.Length - 1;
        Assert.Contains(planted.Steps, s => s.Index == lastIndex && s.Differences.Any(d => d.StartsWith("step status: model Ok", StringComparison.Ordinal)));
    }
}
