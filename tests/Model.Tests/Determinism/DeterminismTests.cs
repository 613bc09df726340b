using System.Text;
using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Determinism;

public sealed class DeterminismTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    [Theory]
    [InlineData(3, SynchronousMode.Off)]
    [InlineData(5, SynchronousMode.On)]
    [InlineData(7, SynchronousMode.Strict)]
    public void ALongSequence_RunTwice_GivesByteIdenticalTracesAndObservations(int members, SynchronousMode mode)
    {
        // Given a 200-step pseudo-random sequence with every kind of fault
        var config = ClusterConfig.Default with { Members = members, SynchronousMode = mode };
        var seed = 4242 + members;

        // When it runs twice on the shared runtime and once on a fresh ActorSystem
        var first = Run(fixture.Runtime, config, seed);
        var second = Run(fixture.Runtime, config, seed);
        using var fresh = new ModelRuntime();
        var third = Run(fresh, config, seed);

        // Then the traces, results and observations are byte-identical, and the run did real work
        Assert.Equal(first, second);
        Assert.Equal(first, third);
        Assert.Contains(" promoted ", first, StringComparison.Ordinal);
        Assert.Contains(" write-acked ", first, StringComparison.Ordinal);
    }

    [Fact]
    public void DifferentSeeds_CanChooseDifferentWinners()
    {
        // Given the same faults on clusters with different seeds (member HA loops run at seeded phases)
        var winners = new HashSet<string>();
        for (var seed = 0; seed < 20; seed++)
        {
            using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { Members = 5 }, seed);
            cluster.Apply(new PatroniModel.Scenarios.Faults.Kill("pg1"));
            cluster.Apply(new PatroniModel.Scenarios.Faults.Settle());
            winners.Add(cluster.Observe().Leader!);
        }

        // Then the race is decided by the seed, not always the same way
        Assert.True(winners.Count > 1, $"always {string.Join(',', winners)}");
    }

    [Fact]
    public void ClustersOnTwoThreadsAtOnce_GiveTheSameResultsAsOnOneThread()
    {
        // Given the same 60-step sequences run alone
        var config = ClusterConfig.Default;
        var alone = Enumerable.Range(0, 8).Select(seed => Run(fixture.Runtime, config, seed, 60)).ToList();

        // When they run on two threads at once, sharing the runtime
        var together = new string[8];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 2 }, seed => together[seed] = Run(fixture.Runtime, config, seed, 60));

        // Then every result is the same
        Assert.Equal(alone, together);
    }

    private static string Run(ModelRuntime runtime, ClusterConfig config, int seed, int steps = 200)
    {
        using var cluster = runtime.CreateCluster(config, seed);
        var text = new StringBuilder();
        RandomSequences.Run(cluster, seed, steps, (_, result) => text.Append(result).Append('\n').Append(cluster.Observe()).Append('\n'));
        text.Append(cluster.TraceText());
        Assert.Equal(cluster.NowMilliseconds, cluster.Observe().AtMilliseconds);
        return text.ToString();
    }
}
