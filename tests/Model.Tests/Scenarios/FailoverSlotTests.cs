using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Scenarios;

/// <summary>
/// The PostgreSQL 17 option of the model (DOMAIN.md): slots created with <c>failover =&gt; true</c>, synced to the standbys by
/// their slotsync workers, left alone by Patroni (patroni PR 3245), and <c>synchronized_standby_slots</c> holding the
/// consumer behind the standbys. The real cluster runs PostgreSQL 15, so these run on the model only.
/// </summary>
public sealed class FailoverSlotTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    private static readonly ClusterConfig Pg17 = ClusterConfig.Default with { PostgresMajor = 17 };

    [Fact]
    public void HardLeaderKill_OnPostgres17_TheSyncedSlotSurvives_FoundWithoutAlarm_WhereOn15ItIsAGap()
    {
        // Given a consumed slot, one replica loop later (the slotsync worker's round), on PostgreSQL 17 and on 15
        var outcomes = new Dictionary<int, ReconcileObservation>();
        foreach (var config in new[] { Pg17, ClusterConfig.Default })
        {
            using var cluster = fixture.Runtime.CreateCluster(config, 7);
            cluster.Ok(new CreateSlot("s1"));
            cluster.Ok(new Write(5));
            cluster.Ok(new Consume("s1"));
            cluster.Ok(new Wait(config.LoopWait + 1));

            // When the leader is SIGKILLed and a replica takes over, WAL moving on
            cluster.Ok(new Kill("pg1"));
            cluster.Ok(new Settle());
            cluster.Ok(new Checkpoint());
            outcomes[config.PostgresMajor] = cluster.Reconciled("s1");
            if (config.FailoverSlots)
            {
                Assert.Contains(cluster.Trace, e => e.Kind == ModelEventKinds.SlotCopied && e.Detail.Contains("slotsync", StringComparison.Ordinal));
            }
        }

        // Then PostgreSQL 17's synced copy is the new leader's slot at the consumer's position: no alarm, a failover slot;
        // PostgreSQL 15 lost the slot and the reconciler measured the gap
        var pg17 = outcomes[17];
        Assert.Equal(ReconcileOutcome.Found, pg17.Outcome);
        Assert.Equal(0, pg17.DuplicateBytes);
        Assert.False(pg17.Unprotected);
        Assert.Contains("failover slot", pg17.Detail, StringComparison.Ordinal);
        Assert.Equal(ReconcileOutcome.RecreatedWithGap, outcomes[15].Outcome);
        Assert.True(outcomes[15].Unprotected);
    }

    [Fact]
    public void ConsumedAfterTheLastSync_TheNewLeadersSlotIsBehind_DuplicatesNotAGap()
    {
        // Given a failover slot synced at one position, then consumed further with no slotsync round in between
        using var cluster = fixture.Runtime.CreateCluster(Pg17, 8);
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(3));
        cluster.Ok(new Consume("s1"));
        cluster.Ok(new Wait(Pg17.LoopWait + 1));
        var synced = cluster.Observe().Consumers.Single().LastConfirmed;
        cluster.Ok(new Write(4));
        cluster.Ok(new Consume("s1"));
        var consumed = cluster.Observe().Consumers.Single().LastConfirmed;

        // When the leader dies at once
        cluster.Ok(new Kill("pg1"));
        cluster.Ok(new Settle());
        var report = cluster.Reconciled("s1");

        // Then the slot is found at the last synced position: the consumer will see the changes in between again
        Assert.Equal(ReconcileOutcome.Found, report.Outcome);
        Assert.Equal(synced, report.SlotPosition);
        Assert.Equal(consumed.BytesAfter(synced), report.DuplicateBytes);
        Assert.True(report.DuplicateBytes > 0, cluster.Why());
    }

    [Fact]
    public void SynchronizedStandbySlots_WithAStoppedStandby_TheConsumeWaitsAndGivesUpWithNothingDecoded()
    {
        // Given PostgreSQL 17 with synchronized_standby_slots and a consumed failover slot
        using var cluster = fixture.Runtime.CreateCluster(Pg17 with { SynchronizedStandbySlots = true }, 9);
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(2));
        cluster.Ok(new Consume("s1"));
        var consumed = cluster.Observe().Consumers.Single().LastConfirmed;
        var pg3Flushed = cluster.Observe().Member("pg3")!.WalLsn;

        // When pg3 is killed and rows are written and consumed
        cluster.Ok(new Kill("pg3"));
        cluster.Ok(new Write(5));
        var startedAt = cluster.Observe().AtMilliseconds;
        var result = cluster.Apply(new Consume("s1"));

        // Then pg_logical_slot_get_changes waits for pg3 to confirm the end of WAL, as long as the real step does, and
        // gives up: nothing decoded, the step says who it waited for
        Assert.Equal(StepStatus.Refused, result.Status);
        Assert.StartsWith($"waiting for synchronized_standby_slots: pg3 has flushed {pg3Flushed}", result.Detail, StringComparison.Ordinal);
        Assert.Equal(ModelTimings.ConsumeWaitTimeout, cluster.Observe().AtMilliseconds - startedAt);
        Assert.Equal(consumed, cluster.Observe().Consumers.Single().LastConfirmed);

        // And once pg3 streams again the consumer reaches the end of WAL
        cluster.Ok(new Start("pg3"));
        cluster.Ok(new Settle());
        cluster.Ok(new Consume("s1"));
        var after = cluster.Observe();
        Assert.Equal(after.LeaderMember!.WalLsn, after.Consumers.Single().LastConfirmed);
    }

    [Fact]
    public void Switchover_TheExPrimarysOwnFailoverSlotIsDropped_ThenSyncedAgainFromTheNewPrimary()
    {
        // Given a consumed failover slot on pg1, synced to the standbys
        using var cluster = fixture.Runtime.CreateCluster(Pg17, 10);
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(2));
        cluster.Ok(new Consume("s1"));
        cluster.Ok(new Wait(Pg17.LoopWait + 1));

        // When pg1 switches over to pg2 and a few loops pass
        cluster.Ok(new Switchover("pg1", "pg2"));
        cluster.Ok(new Settle());
        cluster.Ok(new Wait(3 * Pg17.LoopWait));

        // Then pg2 keeps the slot (found, no alarm); pg1's synced = false slot was dropped and pg1 holds a synced copy again
        Assert.Equal(ReconcileOutcome.Found, cluster.Reconciled("s1").Outcome);
        Assert.Contains(cluster.Trace, e => e.Member == "pg1" && e.Kind == ModelEventKinds.SlotDropped && e.Detail.Contains("synced = false", StringComparison.Ordinal));
        Assert.Contains(cluster.Trace, e => e.Member == "pg1" && e.Kind == ModelEventKinds.SlotCopied && e.Detail.Contains("from pg2", StringComparison.Ordinal));
        Assert.Contains(cluster.Observe().Member("pg1")!.Slots, s => s.Name == "s1");
    }

    [Fact]
    public void Restart_OnPostgres17_LeavesTheFailoverSlot_WhereOn15PatroniDropsIt()
    {
        // Given a slot on the leader that is neither permanent nor ignored
        using var pg17 = fixture.Runtime.CreateCluster(Pg17, 11);
        using var pg15 = fixture.Runtime.CreateCluster(ClusterConfig.Default, 11);
        foreach (var cluster in new[] { pg17, pg15 })
        {
            cluster.Ok(new CreateSlot("s1"));
            cluster.Ok(new Consume("s1"));

            // When Patroni restarts the leader's PostgreSQL (POST /restart): it reloads its slot state
            cluster.Ok(new Restart("pg1"));
            cluster.Ok(new Settle());
        }

        // Then only the PostgreSQL 15 slot was dropped as unknown (patroni PR 3245: failover slots are left alone)
        Assert.Contains(pg17.Observe().LeaderMember!.Slots, s => s.Name == "s1");
        Assert.DoesNotContain(pg15.Observe().LeaderMember!.Slots, s => s.Name == "s1");
    }
}
