using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
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
}
