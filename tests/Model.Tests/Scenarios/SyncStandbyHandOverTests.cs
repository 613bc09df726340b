using PatroniModel.Model;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Scenarios;

/// <summary>
/// Patroni 3.0.2's process_sync_replication (ha.py): when the synchronous standby changes, the leader first takes the
/// departed one out of /sync, names the new one in synchronous_standby_names, sleeps 2 s in the same cycle and only then
/// names it in /sync. Found by the conformance campaign (seed 20261204, sequence 5): a leader frozen inside those 2 s
/// leaves /sync without a standby, and in synchronous mode nobody but that leader may be promoted.
/// </summary>
public sealed class SyncStandbyHandOverTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    private static readonly ClusterConfig FiveInSyncMode = ClusterConfig.Default with { Members = 5, SynchronousMode = SynchronousMode.On };

    [Theory]
    [InlineData(0, false)]
    [InlineData(3, true)]
    public void LeaderFrozenAfterTheSyncStandbyChanged_IsReplacedOnlyIfTheNewStandbyWasNamedInSync(int secondsBeforeFreeze, bool replaced)
    {
        // Given five members in synchronous mode with pg5 the synchronous standby, and pg5 killed
        using var cluster = fixture.Runtime.CreateCluster(FiveInSyncMode, 11, new ModelOptions { PreferredSyncStandby = "pg5" });
        cluster.Ok(new Settle());
        var mark = cluster.Trace.Count;
        cluster.Ok(new Kill("pg5"));

        // When the leader names a new synchronous standby, and is frozen within or after the 2 s it waits before /sync
        ModelEvent? picked = null;
        for (var i = 0; i < 20 && picked is null; i++)
        {
            cluster.Ok(new Wait(1));
            picked = cluster.Trace.Skip(mark).FirstOrDefault(e => e.Kind == ModelEventKinds.SyncStandby && e.Detail != "none");
        }
        Assert.True(picked is not null, $"the leader never picked a new synchronous standby{cluster.Why()}");
        Assert.InRange(cluster.Observe().AtMilliseconds - picked.AtMilliseconds, 0, ModelTimings.SyncStandbyWait - 1);
        if (secondsBeforeFreeze > 0)
        {
            cluster.Ok(new Wait(secondsBeforeFreeze));
        }
        cluster.Ok(new Freeze("pg1"));
        cluster.Ok(new Wait(cluster.Config.Ttl * 3));

        // Then the new standby took over only if /sync named it before the freeze; otherwise nobody may
        var leader = cluster.Observe().Leader;
        if (replaced)
        {
            Assert.True(leader == picked.Detail, $"expected {picked.Detail} to lead, leader {leader ?? "none"}{cluster.Why()}");
        }
        else
        {
            Assert.True(leader is null or "pg1", $"expected no new leader, got {leader}{cluster.Why()}");
            Assert.DoesNotContain(cluster.Trace.Skip(mark), e => e.Kind == ModelEventKinds.Promoted);
        }
    }

    [Fact]
    public void ReplicaThatLosesTheLockRace_FollowsTheWinnerInTheSameCycle()
    {
        // Given three members and a switchover from pg1 to any healthy replica: pg2 and pg3 both race for the lock
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 12);
        cluster.Ok(new Settle());
        var mark = cluster.Trace.Count;
        cluster.Ok(new Switchover("pg1"));

        // When the switchover has answered (the first whole second after the request, long before the next loop_wait)
        var observation = cluster.Observe();

        // Then the loser, woken by the deleted leader key, already streams from the winner (ha.py process_unhealthy_cluster:
        // "following new leader after trying and failing to obtain lock"), without waiting for its next loop
        var winner = observation.Leader;
        Assert.True(winner is "pg2" or "pg3", $"leader {winner}{cluster.Why()}");
        var loser = observation.Member(winner == "pg2" ? "pg3" : "pg2")!;
        Assert.True(cluster.Config.LoopWait * 1000L > observation.AtMilliseconds - cluster.Trace[mark].AtMilliseconds);
        Assert.True(loser.Streaming && loser.Timeline == observation.LeaderMember!.Timeline, $"{loser.Name} does not stream from {winner}: {loser}{cluster.Why()}");
    }

    [Theory]
    [InlineData(17, StepStatus.Ok)]
    [InlineData(15, StepStatus.Refused)]
    public void FailoverToAnAsynchronousMember_InSynchronousMode_IsPatroni4sRuleOnly(int postgres, StepStatus expected)
    {
        // Given strict synchronous mode with pg2 the synchronous standby: Patroni 4.0.7 on the PostgreSQL 17 image,
        // Patroni 3.0.2 on the PostgreSQL 15 one (campaign seed 20261204, PostgreSQL 17 sequence 7)
        var config = ClusterConfig.Default with { SynchronousMode = SynchronousMode.Strict, PostgresMajor = postgres };
        using var cluster = fixture.Runtime.CreateCluster(config, 13, new ModelOptions { PreferredSyncStandby = "pg2" });
        cluster.Ok(new Settle());

        // When a failover names the asynchronous pg3
        var result = cluster.Apply(new Failover("pg3"));

        // Then Patroni 4 fails over to it ("in synchronous mode we allow failover (not switchover!) to async node"), 3 refuses
        Assert.True(result.Status == expected, $"{result}{cluster.Why()}");
        Assert.Equal(expected == StepStatus.Ok ? "pg3" : "pg1", cluster.Observe().Leader);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new Switchover(cluster.Observe().Leader!, expected == StepStatus.Ok ? "pg1" : "pg3")).Status);
    }

    [Fact]
    public void LeaderRace_WaitsForTheRestTimeoutOfAFrozenMember_NotOfAKilledOne()
    {
        // Given the same cluster twice, its leader frozen in one (its REST API hangs) and killed in the other (refused)
        long PromotionAfterExpiry(Func<string, Step> fault)
        {
            using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 14);
            cluster.Ok(new Settle());
            var mark = cluster.Trace.Count;
            cluster.Ok(fault("pg1"));
            cluster.Ok(new Wait(cluster.Config.Ttl * 2));
            var expired = cluster.Trace.Skip(mark).First(e => e.Kind == ModelEventKinds.LeaseExpired);
            var promoted = cluster.Trace.Skip(mark).First(e => e.Kind == ModelEventKinds.Promoted);
            return promoted.AtMilliseconds - expired.AtMilliseconds;
        }

        // When the lease expires and a replica races
        var frozen = PromotionAfterExpiry(m => new Freeze(m));
        var killed = PromotionAfterExpiry(m => new Kill(m));

        // Then the race with a frozen member waits for Patroni's 2 s status timeout (fetch_nodes_statuses), the other does not
        Assert.True(frozen >= ModelTimings.RestStatusTimeout, $"promoted {frozen} ms after the lease expired");
        Assert.True(killed < frozen, $"killed: {killed} ms, frozen: {frozen} ms");
    }

    [Fact]
    public void RestartRightAfterAStart_IsRefusedWhilePatroniStartsPostgres_ThenAccepted()
    {
        // Given a replica killed and started again (campaign seed 20261204, PostgreSQL 17 #9)
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 15);
        cluster.Ok(new Settle());
        cluster.Ok(new Kill("pg2"));
        cluster.Ok(new Start("pg2"));

        // When a restart is asked at once, and again after its first HA cycle
        var early = cluster.Apply(new Restart("pg2"));
        cluster.Ok(new Wait(cluster.Config.LoopWait + 1));
        var later = cluster.Apply(new Restart("pg2"));

        // Then Patroni refuses the first (its async executor is busy: "restarting after failure already in progress")
        Assert.Equal(StepStatus.Refused, early.Status);
        Assert.Contains("restarting after failure already in progress", early.Detail, StringComparison.Ordinal);
        Assert.Equal(StepStatus.Ok, later.Status);
    }
    [Theory]
    [InlineData("partition")]
    [InlineData("freeze")]
    public void SyncStandbyCutOffOrFrozen_StaysSynchronousUntilItsMemberKeyExpires_SoCommitsWaitAndTimeOut(string fault)
    {
        // Given three members in synchronous mode, pg2 the synchronous standby
        var config = ClusterConfig.Default with { SynchronousMode = SynchronousMode.On };
        using var cluster = fixture.Runtime.CreateCluster(config, 7, new ModelOptions { PreferredSyncStandby = "pg2" });
        cluster.Ok(new Settle());
        var mark = cluster.Trace.Count;

        // When it is cut off or frozen (its walsender on the leader stays open) and the client writes at once
        cluster.Ok(fault == "partition" ? new Partition("pg2") : new Freeze("pg2"));
        var write = cluster.Apply(new Write(1));

        // Then the commit waits for pg2 and times out: Patroni keeps pg2 synchronous while its member key lives
        Assert.Equal(StepStatus.Failed, write.Status);
        var moved = cluster.Trace.Skip(mark).FirstOrDefault(e => e.Kind == ModelEventKinds.SyncStandby && e.Detail == "pg3");
        Assert.True(moved is null || moved.AtMilliseconds >= ModelTimings.CommitTimeout, $"pg3 became synchronous at t={moved?.AtMilliseconds}");

        // And once its key expired the leader names pg3 and commits go through again
        cluster.Ok(new Wait(config.Ttl + 2 * config.LoopWait));
        Assert.Equal(StepStatus.Ok, cluster.Apply(new Write(1)).Status);
    }

    [Fact]
    public void FrozenSynchronousStandby_StaysStandbyWhileItsMemberKeyLives_SoCommitsWait()
    {
        // Given PostgreSQL 17 (Patroni 4: ttl raised to 20 s) in strict synchronous mode with pg3 the synchronous standby
        var config = ClusterConfig.Default with
        {
            PostgresMajor = 17, SynchronousMode = SynchronousMode.Strict, SynchronizedStandbySlots = true, Ttl = 10, LoopWait = 2, RetryTimeout = 4,
        };
        using var cluster = fixture.Runtime.CreateCluster(config, ModelCluster.DefaultSeed, new ModelOptions { PreferredSyncStandby = "pg3" });

        // When pg3 is frozen and six rows are written (campaign seed 20261206, PostgreSQL 17, sequence 16)
        cluster.Ok(new Freeze("pg3"));
        var write = cluster.Apply(new Write(6));

        // Then the first commits wait for pg3 until their 5 s timeout: its walsender is still listed and its member key
        // lives 20 s (sync.py current_state), so Patroni keeps it synchronous until the key expires
        Assert.True(write.Status == StepStatus.Failed, $"expected cancelled commits, got {write}{cluster.Why()}");
    }
}
