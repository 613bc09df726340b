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
        var cpuBefore = ThreadCpu.Seconds();
        var watch = Stopwatch.StartNew();
        var runs = 0;
        long virtualMs = 0;
        while (watch.ElapsedMilliseconds < 2_000)
        {
            virtualMs += Run(config, runs);
            runs++;
        }
        var rate = runs / watch.Elapsed.TotalSeconds;
        var cpu = ThreadCpu.Seconds() - cpuBefore;
        output.WriteLine($"bench: {rate:F0} sequences/s (30 steps, {members} members), {virtualMs / runs / 1000} virtual s per sequence; "
                         + $"{(cpu > 0 ? runs / cpu : double.NaN):F0} sequences per CPU-second of this thread (load average {ThreadCpu.LoadAverage()})");

        // Then a sequence costs little CPU (the target is 1,000/s in Release; this guards, also in Debug on a busy machine,
        // against a regression by an order of magnitude: more than 20 ms of this thread's CPU per sequence)
        Assert.True(runs >= 10, $"only {runs} sequences in 2 s");
        Assert.True(double.IsNaN(cpu) || cpu / runs < 0.020, $"{cpu * 1000 / runs:F1} ms of CPU per sequence");
    }

    private long Run(ClusterConfig config, int seed)
    {
        using var cluster = fixture.Runtime.CreateCluster(config, seed);
        RandomSequences.Run(cluster, seed, 30);
        cluster.Observe();
        return cluster.NowMilliseconds;
    }
}
