using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Regressions;

/// <summary>Model bugs the property suite found (its shrunk counterexamples), kept as regressions.</summary>
public sealed class PropertySuiteFindingsTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    private static readonly ClusterConfig Fast = ClusterConfig.Default with { Ttl = 6, LoopWait = 1, RetryTimeout = 2 };

    private static void AssertSettledAndConverged(ModelCluster cluster)
    {
        cluster.Ok(new Settle());
        var observation = cluster.Observe();
        var leader = observation.LeaderMember!;
        foreach (var m in observation.Members.Where(m => m.State == MemberState.Running && m.Name != leader.Name))
        {
            Assert.True(m.Streaming && m.Timeline == leader.Timeline && m.Digest == leader.Digest, $"{m}{cluster.Why()}");
        }
    }

    [Fact]
    public void ALeaderHealedWhileItsDcsCallRetries_DoesNotDemote_AndItsReplicasKeepFollowing()
    {
        // Given pg1 cut off for one second, while its HA loop's DCS call was retrying
        using var cluster = fixture.Runtime.CreateCluster(Fast, 0);
        cluster.Ok(new Partition("pg1"));
        cluster.Ok(new Wait(1));
        cluster.Ok(new Heal("pg1"));
        cluster.Ok(new Wait(2));

        // When the client writes and the cluster settles
        cluster.Ok(new Write(12));

        // Then the retried call went through: no demotion, no new timeline, replicas converge
        Assert.DoesNotContain(cluster.Trace, e => e.Kind is ModelEventKinds.Demoted or ModelEventKinds.Promoted);
        AssertSettledAndConverged(cluster);
    }

    [Fact]
    public void AfterAShortPartitionFollowingASwitchover_ReplicasFollowTheLeadersNewTimeline()
    {
        // Given a switchover to a leader that is then cut off long enough to demote, and healed before its lease expired
        using var cluster = fixture.Runtime.CreateCluster(Fast, 1);
        cluster.Ok(new Freeze("pg2"));
        var to = cluster.Ok(new Switchover("pg1")).Detail.Split(' ')[2];
        cluster.Ok(new Partition(to));
        cluster.Ok(new Wait(3));
        cluster.Ok(new Heal(to));
        cluster.Ok(new Wait(5));
        cluster.Ok(new Thaw("pg2"));

        // Then, whichever member leads, every running member converges on its timeline
        cluster.Apply(new Write(12));
        AssertSettledAndConverged(cluster);
    }

    [Fact]
    public void SynchronousMode_TheLastLeaderRestartedAfterBeingKilled_TakesTheLeaseAgain()
    {
        // Given synchronous mode, the frozen leader's sync standby pg2 promoted (after the 2 s status timeout to the frozen pg1), then pg2 and pg3 killed while pg1 thaws
        using var cluster = fixture.Runtime.CreateCluster(Fast with { SynchronousMode = SynchronousMode.On }, 2);
        cluster.Ok(new Freeze("pg1"));
        cluster.Ok(new Wait(10));
        Assert.Equal("pg2", cluster.Leader);
        cluster.Ok(new Kill("pg2"));
        cluster.Ok(new Thaw("pg1"));
        cluster.Ok(new Kill("pg3"));
        Assert.Equal(StepStatus.Failed, cluster.Apply(new Settle()).Status);

        // When pg2 and pg3 are started again
        cluster.Ok(new Start("pg2"));
        cluster.Ok(new Start("pg3"));

        // Then pg2 (the last leader, on the newest timeline) takes the lease: pg1's higher LSN on the old timeline does not block it
        AssertSettledAndConverged(cluster);
        Assert.Equal("pg2", cluster.Leader);
    }

    [Fact]
    public void ALeaderStartedWhileStillHoldingTheLease_RenewsIt_AndDemotesBeforeItExpiresWhenCutOff()
    {
        // Given pg1 killed and started before its lease expired (it takes it again), then cut off
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { Members = 5 }, 0);
        foreach (var step in new Step[] { new Write(13), new Kill("pg1"), new Write(14), new Write(18), new Start("pg1"), new Write(6), new Kill("pg5"), new Write(9), new Partition("pg1") })
        {
            cluster.Apply(step);
        }
        cluster.Ok(new Settle());

        // Then it demoted itself before its lease expired and before anybody else was promoted: never two writable leaders
        var demoted = cluster.Trace.Last(e => e.Member == "pg1" && e.Kind == ModelEventKinds.Demoted);
        var expired = cluster.Trace.Last(e => e.Member == "pg1" && e.Kind == ModelEventKinds.LeaseExpired);
        var promoted = cluster.Trace.Last(e => e.Kind == ModelEventKinds.Promoted);
        Assert.NotEqual("pg1", promoted.Member);
        Assert.True(demoted.AtMilliseconds < expired.AtMilliseconds && expired.AtMilliseconds <= promoted.AtMilliseconds, cluster.Why());
        var renewedLeases = cluster.Trace.Count(e => e.Member == "pg1" && e.Kind == ModelEventKinds.LeaseAcquired);
        Assert.True(renewedLeases <= 2, $"pg1 re-acquired its lease {renewedLeases} times instead of renewing it{cluster.Why()}");
    }

    [Theory]
    [InlineData(SynchronousMode.Off)]
    [InlineData(SynchronousMode.Strict)]
    public void AThawedExLeader_WokenWhenASwitchoverReleasesTheLease_DoesNotTakeItBack(SynchronousMode mode)
    {
        // Given pg1 frozen until pg2 took over (timeline 2), with acknowledged writes on pg2
        using var cluster = fixture.Runtime.CreateCluster(Fast with { SynchronousMode = mode }, 3);
        cluster.Ok(new Freeze("pg1"));
        cluster.Ok(new Wait(Fast.Ttl + 4));
        var leader = cluster.Leader!;
        Assert.NotEqual("pg1", leader);
        cluster.Ok(new Settle());
        cluster.Ok(new Write(5));

        // When pg1 thaws and, before its own HA loop ran, a switchover releases the lease (the watch wakes pg1 too)
        cluster.Ok(new Thaw("pg1"));
        cluster.Ok(new Switchover(leader));

        // Then pg1 (timeline 1, behind the cluster's timeline) does not take the lease: it demotes, and no acknowledged row is lost
        Assert.NotEqual("pg1", cluster.Leader);
        Assert.DoesNotContain(cluster.Trace, e => e.Member == "pg1" && e.Kind == ModelEventKinds.LeaseAcquired && e.AtMilliseconds > 0);
        Assert.Contains(cluster.Trace, e => e.Member == "pg1" && e.Kind == ModelEventKinds.Demoted);
        AssertSettledAndConverged(cluster);
        Assert.Empty(cluster.Observe().LostAcknowledged);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void ASyncStandbyHealedWhileTheThawedPrimaryIsAlive_DoesNotTakeOver(int offsetSeconds)
    {
        // Given synchronous mode, the sync standby pg2 cut off, 1.5 MB written on pg1, then pg1 frozen for two minutes
        // (its member key expired; only pg1 and pg2 may be promoted, so nobody is)
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { SynchronousMode = SynchronousMode.On }, 4);
        cluster.Ok(new Partition("pg2"));
        cluster.Ok(new AdvanceWal(1_500_000));
        cluster.Ok(new Freeze("pg1"));
        Assert.Equal(StepStatus.Failed, cluster.Apply(new Settle()).Status);
        cluster.Ok(new Wait(offsetSeconds));

        // When pg1 thaws and pg2 is healed at the same moment (at some point of pg2's retrying DCS call)
        cluster.Ok(new Thaw("pg1"));
        cluster.Ok(new Heal("pg2"));

        // Then pg2 sees (over REST) that the primary pg1 is alive and does not race; pg1 takes its lease back, nothing is lost
        AssertSettledAndConverged(cluster);
        Assert.DoesNotContain(cluster.Trace, e => e.Kind == ModelEventKinds.Promoted);
        Assert.Equal("pg1", cluster.Leader);
        Assert.Equal(1, cluster.Observe().LeaderMember!.Timeline);
    }
}
