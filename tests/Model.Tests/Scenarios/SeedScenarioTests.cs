using System.Collections.Immutable;
using PatroniModel.Model;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Scenarios;

/// <summary>
/// The seed's nine end-to-end scenarios (tests/E2E) and the two it lacks, on the model, with the assertions the real E2E
/// makes. The reconciler is the product's SlotReconciler, talking to the model through its endpoint.
/// </summary>
public sealed class SeedScenarioTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    private ModelCluster NewCluster(ClusterConfig? config = null, int seed = 7) =>
        fixture.Runtime.CreateCluster(config ?? ClusterConfig.Default, seed);

    private static Lsn Confirmed(ModelCluster cluster, string slot) =>
        cluster.Observe().Consumers.Single(c => c.Slot == slot).LastConfirmed;

    [Fact]
    public void WalContinuityEndToEnd_SwitchoverAndFailback_EachReportTheGapFromLastConfirmed()
    {
        using var cluster = NewCluster();

        // Given a non-permanent slot consumed up to a position, and WAL moved after it
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(3));
        cluster.Ok(new Consume("s1"));
        var lastConfirmed = Confirmed(cluster, "s1");
        cluster.Ok(new AdvanceWal(4096));

        // When the leader switches over gracefully
        cluster.Ok(new Switchover("pg1", "pg2"));

        // Then the slot is gone on the new leader, and EnsureSlot re-creates it reporting the gap from last confirmed
        var observation = cluster.Observe();
        Assert.Equal("pg2", observation.Leader);
        Assert.DoesNotContain(observation.LeaderMember!.Slots, s => s.Name == "s1");
        // (one loop on: a slot re-created before the new leader's reload would be dropped by it, see SlotCacheTests)
        cluster.Ok(new Wait(cluster.Config.LoopWait + 1));
        cluster.Ok(new AdvanceWal(4096));
        cluster.Ok(new Checkpoint());
        var report = cluster.Reconciled("s1");
        AssertGap(report, lastConfirmed, cluster);

        // And re-ensuring from the new slot's position finds it, no alarm
        var again = cluster.Ok(new Reconcile("s1", report.GapEnd)).Reconcile!;
        Assert.Equal(ReconcileOutcome.Found, again.Outcome);
        Assert.Equal(0, again.DuplicateBytes);

        // When the consumer reads on, and the cluster fails back to pg1
        cluster.Ok(new Settle());
        cluster.Ok(new Consume("s1"));
        var secondConfirmed = Confirmed(cluster, "s1");
        cluster.Ok(new Write(2));
        cluster.Ok(new Switchover("pg2", "pg1"));
        cluster.Ok(new AdvanceWal(4096));
        cluster.Ok(new Checkpoint());

        // Then the same holds on the failback
        Assert.Equal("pg1", cluster.Observe().Leader);
        AssertGap(cluster.Reconciled("s1"), secondConfirmed, cluster);
        Assert.Equal(ReconcileOutcome.Found, cluster.Ok(new Reconcile("s1", cluster.Observe().LeaderMember!.Slots.Single(s => s.Name == "s1").ConfirmedFlush)).Reconcile!.Outcome);
    }

    [Fact]
    public void MultiSlotAndBootstrap_EachSlotGetsItsOwnGap_AndAFreshSlotIsNoAlarm()
    {
        using var cluster = NewCluster();

        // Given three slots consumed at three different positions
        var confirmed = new Dictionary<string, Lsn>();
        foreach (var slot in new[] { "s1", "s2", "s3" })
        {
            cluster.Ok(new CreateSlot(slot));
        }
        foreach (var slot in new[] { "s1", "s2", "s3" })
        {
            cluster.Ok(new Write(2));
            cluster.Ok(new Consume(slot));
            confirmed[slot] = Confirmed(cluster, slot);
        }
        Assert.Equal(3, confirmed.Values.Distinct().Count());

        // When the leader switches over and WAL moves on the new leader
        cluster.Ok(new Switchover("pg1"));
        cluster.Ok(new AdvanceWal(8192));
        cluster.Ok(new Checkpoint());

        // Then each slot is re-created with its own gap
        foreach (var (slot, last) in confirmed)
        {
            AssertGap(cluster.Reconciled(slot), last, cluster);
        }

        // And a fresh slot with no consumer position is created without alarm
        var fresh = cluster.Reconciled("s4");
        Assert.Equal(ReconcileOutcome.Created, fresh.Outcome);
        Assert.Null(fresh.GapStart);
    }

    [Fact]
    public void PermanentSlotSurvivesSwitchover_FoundNotRecreated()
    {
        using var cluster = NewCluster();

        // Given a permanent logical slot, consumed, and time for Patroni to copy it to the replicas
        cluster.Ok(new CreateSlot("s1", Permanent: true));
        cluster.Ok(new Write(3));
        cluster.Ok(new Consume("s1"));
        var lastConfirmed = Confirmed(cluster, "s1");
        cluster.Ok(new Wait(10));
        Assert.Contains(cluster.Trace, e => e.Kind == ModelEventKinds.SlotReady);

        // When the leader switches over
        cluster.Ok(new Switchover("pg1", "pg2"));

        // Then the slot is on the new leader at the consumer's position: Found, not re-created
        var report = cluster.Reconciled("s1");
        Assert.Equal(ReconcileOutcome.Found, report.Outcome);
        Assert.Equal(lastConfirmed, report.SlotPosition);
        Assert.Equal("pg2", report.Leader);
        Assert.False(report.Unprotected);
    }

    [Fact]
    public void HardLeaderKill_ReplicaPromoted_SlotRecreatedWithGap()
    {
        using var cluster = NewCluster();

        // Given a consumed slot on pg1
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(3));
        cluster.Ok(new Consume("s1"));
        var lastConfirmed = Confirmed(cluster, "s1");

        // When pg1 is SIGKILLed and the cluster settles
        cluster.Ok(new Kill("pg1"));
        cluster.Ok(new Settle());

        // Then a replica is promoted, and the slot is re-created with a gap after WAL moved
        var observation = cluster.Observe();
        Assert.NotNull(observation.Leader);
        Assert.NotEqual("pg1", observation.Leader);
        Assert.Equal(2, observation.LeaderMember!.Timeline);
        cluster.Ok(new AdvanceWal(4096));
        cluster.Ok(new Checkpoint());
        AssertGap(cluster.Reconciled("s1"), lastConfirmed, cluster);
    }

    [Fact]
    public void KilledLeaderRejoinsAsReplica_ThreeMembersOneLeader()
    {
        using var cluster = NewCluster();

        // Given pg1 killed and a new leader
        cluster.Ok(new Write(3));
        cluster.Ok(new Kill("pg1"));
        cluster.Ok(new Settle());

        // When pg1 is started again
        cluster.Ok(new Start("pg1"));
        cluster.Ok(new Settle());

        // Then it is a healthy replica of the new leader, on the new timeline
        var observation = cluster.Observe();
        Assert.Single(observation.Members, m => m.Role == MemberRole.Leader);
        var pg1 = observation.Member("pg1")!;
        Assert.Equal(MemberRole.Replica, pg1.Role);
        Assert.True(pg1.Streaming, cluster.Why());
        Assert.Equal(observation.LeaderMember!.Timeline, pg1.Timeline);
        Assert.All(observation.Members, m => Assert.Equal(MemberState.Running, m.State));
    }

    [Fact]
    public void ReplicaLossKeepsPrimary_NoFailover_PrimaryWritableWithItsSlot()
    {
        using var cluster = NewCluster();

        // Given a slot on pg1
        cluster.Ok(new CreateSlot("s1"));

        // When a replica is killed and the client writes on
        cluster.Ok(new Kill("pg3"));
        cluster.Ok(new Write(5));
        cluster.Ok(new Wait(30));

        // Then no failover happened, every write was acknowledged, and the slot is still on the primary
        var observation = cluster.Observe();
        Assert.Equal("pg1", observation.Leader);
        Assert.True(observation.LeaderMember!.Writable);
        Assert.Equal(5, observation.Acknowledged);
        Assert.Contains(observation.LeaderMember.Slots, s => s.Name == "s1");
        Assert.DoesNotContain(cluster.Trace, e => e.Kind == ModelEventKinds.Promoted);
        Assert.Equal(ReconcileOutcome.Found, cluster.Reconciled("s1").Outcome);

        // And the replica recovers
        cluster.Ok(new Start("pg3"));
        cluster.Ok(new Settle());
        Assert.True(cluster.Observe().Member("pg3")!.Streaming, cluster.Why());
        Assert.Equal(cluster.Observe().LeaderMember!.Digest, cluster.Observe().Member("pg3")!.Digest);
    }

    [Fact]
    public void FrozenLeaderFailoverAndRejoin_ReplicaPromoted_ExLeaderDemotesAndRejoins()
    {
        using var cluster = NewCluster();

        // Given pg1 frozen (docker pause)
        cluster.Ok(new Write(3));
        cluster.Ok(new Freeze("pg1"));

        // When the cluster settles without it
        cluster.Ok(new Settle());
        var leader = cluster.Observe().Leader;
        Assert.NotNull(leader);
        Assert.NotEqual("pg1", leader);

        // And pg1 is thawed
        cluster.Ok(new Thaw("pg1"));
        cluster.Ok(new Settle());

        // Then pg1 demoted itself and rejoined as a replica of the new leader
        var observation = cluster.Observe();
        Assert.Equal(leader, observation.Leader);
        Assert.Contains(cluster.Trace, e => e.Member == "pg1" && e.Kind == ModelEventKinds.Demoted);
        Assert.True(observation.Member("pg1")!.Streaming, cluster.Why());
        Assert.Equal(MemberRole.Replica, observation.Member("pg1")!.Role);
        Assert.Empty(observation.LostAcknowledged);
    }

    [Fact]
    public void DataIntegrity_AcrossHardFailoverAndRejoin_DigestsMatchExactly()
    {
        using var cluster = NewCluster();

        // Given 20 acknowledged rows
        cluster.Ok(new Write(20));
        var expected = RowDigest.Compute(cluster.Acknowledged);

        // When the leader is killed and a replica promoted
        cluster.Ok(new Kill("pg1"));
        cluster.Ok(new Settle());

        // Then the promoted leader holds exactly the committed rows
        var promoted = cluster.Observe().LeaderMember!;
        Assert.Equal(expected, promoted.Digest);
        Assert.Equal(20, promoted.Rows);

        // And the revived node, read directly, converges to the leader's exact digest
        cluster.Ok(new Start("pg1"));
        cluster.Ok(new Settle());
        var observation = cluster.Observe();
        Assert.Equal(observation.LeaderMember!.Digest, observation.Member("pg1")!.Digest);
        Assert.Empty(observation.LostAcknowledged);
    }

    [Fact]
    public void DataIntegrity_AcrossSwitchover_EveryRowPreservedAndNewLeaderDurable()
    {
        using var cluster = NewCluster();

        // Given 10 acknowledged rows
        cluster.Ok(new Write(10));

        // When the leader switches over
        cluster.Ok(new Switchover("pg1"));

        // Then every committed row is on the new leader
        var observation = cluster.Observe();
        Assert.NotEqual("pg1", observation.Leader);
        Assert.Equal(RowDigest.Compute(cluster.Acknowledged), observation.LeaderMember!.Digest);

        // And the new leader durably holds further writes, also on every replica once settled
        cluster.Ok(new Write(5));
        cluster.Ok(new Settle());
        observation = cluster.Observe();
        Assert.Equal(15, observation.Acknowledged);
        Assert.Empty(observation.LostAcknowledged);
        Assert.Equal(RowDigest.Compute(cluster.Acknowledged), observation.LeaderMember!.Digest);
        Assert.Single(observation.Members.Select(m => m.Digest).Distinct());
    }

    [Fact]
    public void SlotDroppedWithoutFailover_UnprotectedSlotDroppedByRestart_IgnoredSlotSurvives()
    {
        // Given an unprotected slot, consumed, on a healthy leader
        using (var cluster = NewCluster())
        {
            cluster.Ok(new CreateSlot("s1"));
            cluster.Ok(new Write(3));
            cluster.Ok(new Consume("s1"));
            var lastConfirmed = Confirmed(cluster, "s1");

            // When Patroni restarts the leader's PostgreSQL (no failover at all)
            cluster.Ok(new Restart("pg1"));

            // Then Patroni dropped the slot, and EnsureSlot reports the gap and that the slot is unprotected
            Assert.Contains(cluster.Trace, e => e.Kind == ModelEventKinds.SlotDropped && e.Detail.Contains("unknown slot", StringComparison.Ordinal));
            Assert.DoesNotContain(cluster.Trace, e => e.Kind == ModelEventKinds.Promoted);
            var report = cluster.Reconciled("s1");
            AssertGap(report, lastConfirmed, cluster);
            Assert.True(report.Unprotected);
        }

        // Given the same, with the slot in ignore_slots
        using (var cluster = NewCluster(ClusterConfig.Default with { IgnoreSlots = ["s1"] }))
        {
            cluster.Ok(new CreateSlot("s1"));
            cluster.Ok(new Write(3));
            cluster.Ok(new Consume("s1"));

            // When the leader's PostgreSQL restarts and the permanent slots change
            cluster.Ok(new Restart("pg1"));
            cluster.Ok(new PatchConfig(new ConfigPatch { PermanentSlots = ["s9"] }));

            // Then the slot is Found, not unprotected
            var report = cluster.Reconciled("s1");
            Assert.Equal(ReconcileOutcome.Found, report.Outcome);
            Assert.False(report.Unprotected);
        }
    }

    [Fact]
    public void LeaderPartitioned_DemotesBeforeReplicaPromoted_RejoinsAfterHeal_NoAckedWriteLost()
    {
        using var cluster = NewCluster();

        // Given acknowledged writes on pg1
        cluster.Ok(new Write(5));
        var ackedBefore = cluster.Acknowledged;

        // When pg1 is cut off from the network
        var partitionedAt = cluster.NowMilliseconds;
        cluster.Ok(new Partition("pg1"));
        cluster.Ok(new Settle());

        // Then pg1 demoted itself within ttl, before the replica was promoted: no overlap
        var demoted = cluster.Trace.First(e => e.Member == "pg1" && e.Kind == ModelEventKinds.Demoted);
        var promoted = cluster.Trace.First(e => e.Kind == ModelEventKinds.Promoted);
        Assert.True(demoted.AtMilliseconds - partitionedAt <= cluster.Config.Ttl * 1000, cluster.Why());
        Assert.True(demoted.AtMilliseconds < promoted.AtMilliseconds, cluster.Why());

        // And when it is healed it rejoins as a replica
        cluster.Ok(new Write(3));
        cluster.Ok(new Heal("pg1"));
        cluster.Ok(new Settle());
        var observation = cluster.Observe();
        Assert.True(observation.Member("pg1")!.Streaming, cluster.Why());

        // And no write acknowledged by pg1 after its demotion exists; every write acknowledged before the partition is on the new leader
        Assert.DoesNotContain(cluster.Trace, e => e.Kind == ModelEventKinds.WriteAcked && e.Detail.EndsWith(" pg1", StringComparison.Ordinal) && e.AtMilliseconds >= demoted.AtMilliseconds);
        Assert.Empty(observation.LostAcknowledged);
        Assert.All(ackedBefore, id => Assert.DoesNotContain(id, observation.LostAcknowledged));
    }

    private static void AssertGap(ReconcileObservation report, Lsn lastConfirmed, ModelCluster cluster)
    {
        Assert.True(report.Outcome == ReconcileOutcome.RecreatedWithGap, $"{report}{cluster.Why()}");
        Assert.Equal(lastConfirmed, report.GapStart);
        Assert.NotNull(report.GapEnd);
        Assert.True(report.GapEnd!.Value > lastConfirmed);
        Assert.Equal((long)(report.GapEnd.Value.Value - lastConfirmed.Value), report.GapBytes);
    }
}
