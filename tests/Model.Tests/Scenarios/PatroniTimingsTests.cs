using PatroniModel.Model;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Scenarios;

/// <summary>
/// The timeouts Patroni runs with (<see cref="ClusterConfig.Timings"/>): Patroni 4, on the PostgreSQL 17 image, raises
/// ttl to 20 s, so a frozen leader keeps its key for up to 20 s whatever ttl the configuration names. Found by the
/// conformance campaign (seed 20261205, PostgreSQL 17 #2, #6; seed 20261204 PostgreSQL 17 #23).
/// </summary>
public sealed class PatroniTimingsTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    [Theory]
    [InlineData(15, 10)]
    [InlineData(17, 20)]
    public void FrozenLeader_KeepsTheKeyForTheTtlPatroniRuns_NotTheConfiguredOne(int postgres, int runningTtl)
    {
        // Given a ttl of 10 s, in synchronous mode
        var config = ClusterConfig.Default with { PostgresMajor = postgres, Ttl = 10, LoopWait = 2, RetryTimeout = 4, SynchronousMode = SynchronousMode.On };
        using var cluster = fixture.Runtime.CreateCluster(config, 5);
        cluster.Ok(new Write(4));

        // When the leader is frozen for longer than 10 s, and then for longer than the ttl Patroni runs with
        cluster.Ok(new Freeze("pg1"));
        cluster.Ok(new Wait(14));
        var early = cluster.Observe();
        cluster.Ok(new Wait(runningTtl + 2 * config.Timings.LoopWait + config.Timings.RetryTimeout - 14 + 1));

        // Then after 14 s another member leads on Patroni 3.0.2, while on Patroni 4 the frozen leader still holds the key;
        // past the 20 s ttl another member leads on both
        if (runningTtl == 10)
        {
            Assert.NotEqual("pg1", early.Leader);
        }
        else
        {
            Assert.Equal("pg1", early.Leader);
            Assert.Null(early.Members.SingleOrDefault(m => m.Writable));
        }
        var late = cluster.Observe();
        Assert.NotEqual("pg1", late.Leader);
        Assert.True(late.LeaderMember!.Writable);
    }
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void KilledLeader_TheKeysExpiryWakesTheReplicasWatch_SoOneRacesAtOnce_NotAtItsNextLoop(int seed)
    {
        // Given loop_wait 3: a replica sleeps up to 3 s between cycles, in an etcd watch on the leader key
        var config = ClusterConfig.Default with { Ttl = 12, LoopWait = 3, RetryTimeout = 4 };
        using var cluster = fixture.Runtime.CreateCluster(config, seed);

        // When the leader is killed and its key expires
        cluster.Ok(new Kill("pg1"));
        cluster.Ok(new Wait(config.Ttl + config.LoopWait + 1));

        // Then a replica is promoted within the watch's wake-up of the expiry, not up to a loop_wait after it
        var expired = cluster.Trace.First(e => e.Kind == ModelEventKinds.LeaseExpired && e.Member == "pg1").AtMilliseconds;
        var promoted = cluster.Trace.First(e => e.Kind == ModelEventKinds.Promoted).AtMilliseconds;
        Assert.InRange(promoted - expired, 0, ModelTimings.WatchWakeJitter);
    }
}
