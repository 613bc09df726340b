using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Scenarios;

/// <summary>
/// The PostgreSQL 17 option of the model (src/Model/README.md), with the Patroni the real PostgreSQL 17 image has (4.0.7, Debian 13):
/// slots created with <c>failover =&gt; true</c> are synced to the standbys by their slotsync workers, Patroni still drops a
/// failover slot it does not know unless <c>ignore_slots</c> matches it, and <c>synchronized_standby_slots</c> makes
/// decoding wait for the standbys.
/// </summary>
public sealed class FailoverSlotTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    private static readonly ClusterConfig Pg17 = ClusterConfig.Default with { PostgresMajor = 17, IgnoreSlots = ["s1"] };

    private static ReconcileObservation ConsumeSyncAndKillTheLeader(ModelCluster cluster)
    {
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(5));
        cluster.Ok(new Checkpoint());
        cluster.Ok(new Consume("s1"));
        cluster.Ok(new Wait(cluster.Config.LoopWait + 1));
        cluster.Ok(new Kill("pg1"));
        cluster.Ok(new Settle());
        cluster.Ok(new Checkpoint());
        return cluster.Reconciled("s1");
    }

    [Fact]
    public void HardLeaderKill_AnIgnoredFailoverSlotSyncedToTheStandby_IsFoundWithoutAlarm()
    {
        // Given a consumed failover slot in ignore_slots, one replica loop later (the slotsync worker's round)
        using var cluster = fixture.Runtime.CreateCluster(Pg17, 7);

        // When the leader is SIGKILLed and a replica takes over, WAL moving on
        var report = ConsumeSyncAndKillTheLeader(cluster);

        // Then the synced copy is the new leader's slot at the consumer's position: no alarm, and the report says why
        Assert.Contains(cluster.Trace, e => e.Kind == ModelEventKinds.SlotCopied && e.Detail.Contains("slotsync", StringComparison.Ordinal));
        Assert.Equal(ReconcileOutcome.Found, report.Outcome);
        Assert.Equal(0, report.DuplicateBytes);
        Assert.Contains("failover slot: standbys running sync_replication_slots keep synced copies", report.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void RowsSinceTheSlotsLastStandbySnapshot_TheSlotsyncWorkerRefuses_AndAFailoverLosesTheSlot()
    {
        // Given an ignored failover slot consumed past rows written after its creation, with no standby snapshot since
        using var cluster = fixture.Runtime.CreateCluster(Pg17, 12);
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(5));
        cluster.Ok(new Consume("s1"));
        cluster.Ok(new Wait(3 * Pg17.LoopWait));

        // When the leader is killed
        cluster.Ok(new Kill("pg1"));
        cluster.Ok(new Settle());
        cluster.Ok(new Checkpoint());
        var report = cluster.Reconciled("s1");

        // Then no standby could sync the slot (its catalog_xmin is older than theirs, as PostgreSQL 17.12 refuses): a gap
        Assert.DoesNotContain(cluster.Trace, e => e.Kind == ModelEventKinds.SlotCopied);
        Assert.Equal(ReconcileOutcome.RecreatedWithGap, report.Outcome);
    }

    [Theory]
    [InlineData(17)]
    [InlineData(15)]
    public void HardLeaderKill_WithoutIgnoreSlots_PatroniDropsTheSlotOnTheNewLeader_AGapOn17As15(int postgres)
    {
        // Given the same consumer, its slot not in ignore_slots
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { PostgresMajor = postgres }, 7);

        // When the leader is killed
        var report = ConsumeSyncAndKillTheLeader(cluster);

        // Then Patroni 4.0.7 drops even the synced failover slot as unknown on the new leader: the reconciler measures a gap
        Assert.Equal(ReconcileOutcome.RecreatedWithGap, report.Outcome);
        Assert.True(report.Unprotected);
        Assert.Equal(postgres == 17, report.Detail.Contains("failover slot, but Patroni (4.0 and older) drops it as unknown", StringComparison.Ordinal));
    }

    [Fact]
    public void ConsumedAfterTheLastSync_TheNewLeadersSlotIsBehind_DuplicatesNotAGap()
    {
        // Given a failover slot synced at one position, then consumed further with no slotsync round in between
        using var cluster = fixture.Runtime.CreateCluster(Pg17, 8);
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(3));
        cluster.Ok(new Checkpoint());
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
    public void SwitchoverAndBack_TheExPrimarysIgnoredUnsyncedSlotGoesStale_DuplicatesWhenItLeadsAgain()
    {
        // Given an ignored failover slot consumed on pg1 and synced to the standbys
        using var cluster = fixture.Runtime.CreateCluster(Pg17, 10);
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(2));
        cluster.Ok(new Checkpoint());
        cluster.Ok(new Consume("s1"));
        cluster.Ok(new Wait(Pg17.LoopWait + 1));

        // When pg1 switches over to pg2, the consumer goes on there, and pg1 later leads again
        cluster.Ok(new Switchover("pg1", "pg2"));
        cluster.Ok(new Settle());
        Assert.Equal(ReconcileOutcome.Found, cluster.Reconciled("s1").Outcome);
        cluster.Ok(new Write(4));
        cluster.Ok(new Consume("s1"));
        cluster.Ok(new Wait(3 * Pg17.LoopWait));
        var pg1Slot = cluster.Observe().Member("pg1")!.Slots.Single(s => s.Name == "s1");
        cluster.Ok(new Switchover("pg2", "pg1"));
        cluster.Ok(new Settle());
        var report = cluster.Reconciled("s1");

        // Then pg1 kept its own synced = false slot (ignore_slots), which the slotsync worker never overwrites (fixed in
        // Patroni by PR 3493, after 4.0.7): back on pg1 the slot is where the first switchover left it, behind the consumer
        Assert.DoesNotContain(cluster.Trace, e => e.Member == "pg1" && e.Kind == ModelEventKinds.SlotCopied);
        Assert.Equal(ReconcileOutcome.Found, report.Outcome);
        Assert.Equal(pg1Slot.ConfirmedFlush, report.SlotPosition);
        Assert.True(report.DuplicateBytes > 0, cluster.Why());
    }

    [Fact]
    public void Restart_OnPostgres17_DropsAFailoverSlotThatIsNotIgnored_AndKeepsOneThatIs()
    {
        // Given a failover slot on the leader, in ignore_slots or not
        using var ignored = fixture.Runtime.CreateCluster(Pg17, 11);
        using var unknown = fixture.Runtime.CreateCluster(Pg17 with { IgnoreSlots = [] }, 11);
        foreach (var cluster in new[] { ignored, unknown })
        {
            cluster.Ok(new CreateSlot("s1"));
            cluster.Ok(new Consume("s1"));

            // When Patroni restarts the leader's PostgreSQL (POST /restart): it reloads its slot state
            cluster.Ok(new Restart("pg1"));
            cluster.Ok(new Settle());
        }

        // Then Patroni 4.0.7 dropped the unknown one, failover or not
        Assert.Contains(ignored.Observe().LeaderMember!.Slots, s => s.Name == "s1");
        Assert.DoesNotContain(unknown.Observe().LeaderMember!.Slots, s => s.Name == "s1");
    }
}
