using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Scenarios;

public sealed class BasicStepsTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    [Fact]
    public void NewCluster_HasPg1AsLeaderAndReplicasStreaming()
    {
        // Given a fresh 3-member cluster
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, seed: 1);

        // When it is observed
        var observation = cluster.Observe();

        // Then pg1 leads and both replicas stream from it
        Assert.Equal("pg1", observation.Leader);
        Assert.True(observation.Member("pg1")!.Writable, cluster.Why());
        Assert.True(observation.Member("pg2")!.Streaming, cluster.Why());
        Assert.True(observation.Member("pg3")!.Streaming, cluster.Why());
        Assert.Equal(0L, cluster.NowMilliseconds);
    }

    [Fact]
    public void Write_OnHealthyCluster_AcknowledgesEveryRowOnEveryMember()
    {
        // Given a fresh cluster
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, seed: 2);

        // When the client writes 5 rows
        cluster.Ok(new Write(5));

        // Then all 5 are acknowledged and every member holds the same digest
        var observation = cluster.Observe();
        Assert.Equal(5, observation.Acknowledged);
        Assert.Empty(observation.LostAcknowledged);
        Assert.Single(observation.Members.Select(m => m.Digest).Distinct());
        Assert.Equal(RowDigest.Compute([1, 2, 3, 4, 5]), observation.Member("pg1")!.Digest);
    }

    [Fact]
    public void KillLeader_ThenSettle_PromotesAReplicaOnANewTimeline()
    {
        // Given a cluster with some rows
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, seed: 3);
        cluster.Ok(new Write(3));

        // When the leader is killed and the cluster settles
        cluster.Ok(new Kill("pg1"));
        cluster.Ok(new Settle());

        // Then another member leads on timeline 2 with every acknowledged row
        var observation = cluster.Observe();
        Assert.NotEqual("pg1", observation.Leader);
        Assert.Equal(2, observation.LeaderMember!.Timeline);
        Assert.Empty(observation.LostAcknowledged);
    }

    [Fact]
    public void NewCluster_WithAnInitialWal_StartsThereAndItsDefaultIsUnchanged()
    {
        // Given a cluster whose WAL starts just below 0/10000000, and one with the default start
        using var boundary = fixture.Runtime.CreateCluster(ClusterConfig.Default with { InitialWal = Lsn.Parse("0/FFFFF00") }, seed: 1);
        using var usual = fixture.Runtime.CreateCluster(ClusterConfig.Default, seed: 1);

        // When the first starts writing
        var start = boundary.Observe();
        boundary.Ok(new Write(2));

        // Then every member started there and WAL crossed 0/10000000; the default still starts at 0/3000060
        Assert.All(start.Members, m => Assert.Equal(Lsn.Parse("0/FFFFF00"), m.WalLsn));
        Assert.All(boundary.Observe().Members, m => Assert.True(m.WalLsn > Lsn.Parse("0/10000000"), m.ToString()));
        Assert.All(usual.Observe().Members, m => Assert.Equal(Lsn.Parse("0/3000060"), m.WalLsn));
    }

    [Fact]
    public void AdvanceWal_PastTheEndOfTheLsnSpace_IsRefusedNotACrash()
    {
        // Given a cluster whose WAL moved twice 9e18 bytes, past 2^63
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, seed: 1);
        cluster.Ok(new AdvanceWal(9_000_000_000_000_000_000));
        cluster.Ok(new AdvanceWal(9_000_000_000_000_000_000));
        Assert.True(cluster.Observe().LeaderMember!.WalLsn.Value > 1UL << 63);

        // When it is asked to move as far again
        var result = cluster.Apply(new AdvanceWal(9_000_000_000_000_000_000));

        // Then the step is refused in one line, and the cluster goes on
        Assert.Equal(StepStatus.Refused, result.Status);
        Assert.Contains("would leave the model's WAL space", result.Detail, StringComparison.Ordinal);
        cluster.Ok(new Write(1));
    }
}
