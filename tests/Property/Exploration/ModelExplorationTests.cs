using System.Globalization;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Running;
using Xunit;
using Xunit.Abstractions;
using PatroniModel.Exploration.Exploring;

namespace PatroniModel.Tests.Property.Exploration;

/// <summary>
/// The suite's main run: generated fault sequences on the Akka.NET model with the product's reconciler, every property
/// checked after every step. 10,000 sequences by default; <c>PATRONI_MODEL_RUNS</c> raises the count and
/// <c>PATRONI_MODEL_SEED</c> picks another FsCheck seed. A failure is shrunk, printed and saved under artifacts/property/.
/// </summary>
public sealed class ModelExplorationTests(ModelRuntimeFixture fixture, ITestOutputHelper output) : IClassFixture<ModelRuntimeFixture>
{
    /// <summary>The default seed: fixed, so the default run is the same run everywhere.</summary>
    public const ulong DefaultSeed = 20_261_127;

    [Fact]
    public void Explore_OnTheModelWithTheRealReconciler_EveryPropertyHolds()
    {
        // Given the model and the product's reconciler
        var runs = ExplorationSettings.RunsFromEnvironment();
        var seedText = Environment.GetEnvironmentVariable("PATRONI_MODEL_SEED");
        var seed = string.IsNullOrWhiteSpace(seedText) ? DefaultSeed : ulong.Parse(seedText, CultureInfo.InvariantCulture);
        var explorer = new Explorer(() => ModelClusterFactory.WithOwnRuntime());

        // When the generated sequences run, on every core (a model runtime per worker; the result does not depend on it)
        var report = explorer.Explore(new ExplorationSettings(seed, runs, Workers: Environment.ProcessorCount));

        // Then every property held on every step of every sequence
        var summary = $"{report.SummaryWithRate()}, seed {seed}";
        output.WriteLine(summary);
        Console.WriteLine($"property suite: {summary}");
        if (report.Failure is { } failure)
        {
            var path = failure.Save();
            output.WriteLine(failure.Format(path));
            Assert.Fail(failure.Format(path));
        }
        Assert.Equal(runs, report.Sequences);
    }

    [Fact]
    public void Explore_LaggingCandidateEpisodesOnTheModel_EveryPropertyHolds()
    {
        // Given the correct model
        var explorer = new Explorer(new ModelClusterFactory(fixture.Runtime));

        // When the lagging-candidate episodes run (a replica cut off while the leader writes, back just as the leader dies)
        var report = explorer.Explore(new ExplorationSettings(DefaultSeed, 1_000), generator: Explorer.LaggingCandidateArbitrary);

        // Then no lagging replica is promoted beyond maximum_lag_on_failover, and every other property holds
        output.WriteLine($"lagging-candidate episodes: {report.SummaryWithRate()}");
        if (report.Failure is { } failure)
        {
            Assert.Fail(failure.Format(failure.Save()));
        }
        Assert.Equal(1_000, report.Sequences);
    }
}
