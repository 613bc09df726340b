using System.Diagnostics;
using PatroniModel.Model;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.ModelTests.Determinism;

public sealed class BenchmarkTests(ModelFixture fixture, ITestOutputHelper output) : IClassFixture<ModelFixture>
{
    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void Model_RunsThirtyStepSequencesWithFailovers_ManyPerSecond(int members)
    {
        // Given 30-step sequences with kills, freezes, partitions, switchovers and failovers
        var config = ClusterConfig.Default with { Members = members };
        for (var warm = 0; warm < 20; warm++)
        {
            Run(config, warm);
        }

        // When they run for about two seconds
        var watch = Stopwatch.StartNew();
        var runs = 0;
        long virtualMs = 0;
        while (watch.ElapsedMilliseconds < 2_000)
        {
            virtualMs += Run(config, runs);
            runs++;
        }
        var rate = runs / watch.Elapsed.TotalSeconds;
        output.WriteLine($"bench: {rate:F0} sequences/s (30 steps, {members} members), {virtualMs / runs / 1000} virtual s per sequence");

        // Then the model is fast (the target is 1,000/s on 2 cores for 3 members; this guards against an order-of-magnitude regression)
        Assert.True(rate > 100, $"only {rate:F0} sequences/s");
    }

    private long Run(ClusterConfig config, int seed)
    {
        using var cluster = fixture.Runtime.CreateCluster(config, seed);
        RandomSequences.Run(cluster, seed, 30);
        cluster.Observe();
        return cluster.NowMilliseconds;
    }
}
