using PatroniModel.Model;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Scenarios;

/// <summary>
/// Patroni's slot cache (slots.py <c>_replication_slots</c>, <c>_schedule_load_slots</c>): an event schedules a reload of
/// the slot state, and the reload, with the drop of every unknown slot, happens at the next slot pass, not at the instant
/// that scheduled it. /sync is written only by the leader's sync pass, never by the PATCH of the configuration. Found by
/// the conformance campaign (seed 20261204, PostgreSQL 15 #16, #22, #83).
/// </summary>
public sealed class SlotCacheTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    [Fact]
    public void SlotReCreatedRightAfterAPromotion_OnPatroni3_IsDroppedByTheNewLeadersReload_AndOneReCreatedAfterItStays()
    {
        // Given a consumed unprotected slot, and a switchover
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 3);
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(3));
        cluster.Ok(new Consume("s1"));
        cluster.Ok(new Switchover("pg1", "pg2"));

        // When the reconciler re-creates the slot on the new leader at once
        cluster.Ok(new Reconcile("s1"));

        // Then it is there until the new leader's next cycle, whose reload (scheduled by creating the physical slots) drops it
        Assert.Contains(cluster.Observe().LeaderMember!.Slots, s => s.Name == "s1");
        cluster.Ok(new Wait(cluster.Config.LoopWait + 1));
        Assert.DoesNotContain(cluster.Observe().LeaderMember!.Slots, s => s.Name == "s1");
        Assert.Contains(cluster.Trace, e => e.Kind == ModelEventKinds.SlotDropped && e.Member == "pg2" && e.Detail.StartsWith("s1 (unknown slot on reload", StringComparison.Ordinal));

        // And one re-created after that reload stays: nothing schedules another
        cluster.Ok(new Reconcile("s1"));
        cluster.Ok(new Wait(3 * cluster.Config.LoopWait));
        Assert.Contains(cluster.Observe().LeaderMember!.Slots, s => s.Name == "s1");
    }

    [Fact]
    public void SlotReCreatedRightAfterAPromotion_OnPatroni3_IsDroppedInTheCycleThePostPromoteCheckpointWakes_NotALoopLater()
    {
        // Given loop_wait 3, a consumed unprotected slot, and a switchover
        var config = ClusterConfig.Default with { Ttl = 12, LoopWait = 3, RetryTimeout = 4 };
        using var cluster = fixture.Runtime.CreateCluster(config, 3);
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Consume("s1"));
        cluster.Ok(new Switchover("pg1", "pg2"));

        // When the reconciler re-creates the slot on the new leader at once
        cluster.Ok(new Reconcile("s1"));
        Assert.Contains(cluster.Observe().LeaderMember!.Slots, s => s.Name == "s1");

        // Then a second later, before the next loop, it is gone: the CHECKPOINT after the promotion woke the loop (Patroni
        // rewind.py ensure_checkpoint_after_promote), whose slot pass ran the reload the physical slots scheduled
        cluster.Ok(new Wait(1));
        Assert.DoesNotContain(cluster.Observe().LeaderMember!.Slots, s => s.Name == "s1");
    }

    [Fact]
    public void UnknownSlotCreatedInTheFirstLoop_WithPermanentSlotsFromTheStart_IsNotDroppedByTheBringUp()
    {
        // Given a cluster brought up with a permanent slot (created by Patroni during the bring-up)
        var config = ClusterConfig.Default with { PermanentSlots = ["s1"] };
        using var cluster = fixture.Runtime.CreateCluster(config, 5);

        // When an unknown slot is created at once and a few loops pass
        cluster.Ok(new CreateSlot("s3"));
        cluster.Ok(new Wait(3 * config.LoopWait));

        // Then it is still there: the reload the permanent slot's creation scheduled ran before the bring-up ended
        Assert.Contains(cluster.Observe().LeaderMember!.Slots, s => s.Name == "s3");
        Assert.Contains(cluster.Observe().LeaderMember!.Slots, s => s.Name == "s1");
    }

    [Fact]
    public void PermanentSlotDeclared_TheUnknownSlotGoesAtTheNextPass_NotAtThePatch()
    {
        // Given an unknown slot on the leader
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 4);
        cluster.Ok(new CreateSlot("s2"));
        cluster.Ok(new Consume("s2"));

        // When another slot is declared permanent
        cluster.Ok(new PatchConfig(new ConfigPatch { PermanentSlots = ["s3"] }));

        // Then Patroni creates it in the pass that sees the change, and drops s2 only in the pass after
        var now = cluster.Observe().LeaderMember!.Slots;
        Assert.Contains(now, s => s.Name == "s2");
        cluster.Ok(new Wait(cluster.Config.LoopWait + 1));
        var later = cluster.Observe().LeaderMember!.Slots;
        Assert.Contains(later, s => s.Name == "s3");
        Assert.DoesNotContain(later, s => s.Name == "s2");
    }

    [Fact]
    public void SlotNoLongerPermanent_IsDroppedInThePassThatSeesIt_WhileAnUnknownSlotStays()
    {
        // Given a permanent slot s1 and an unknown slot s2 that survived the reloads since
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { PermanentSlots = ["s1"] }, 5);
        cluster.Ok(new Settle());
        cluster.Ok(new Wait(2 * cluster.Config.LoopWait + 1));
        cluster.Ok(new CreateSlot("s2"));

        // When s1 is no longer permanent
        cluster.Ok(new PatchConfig(new ConfigPatch { PermanentSlots = [] }));
        cluster.Ok(new Wait(3 * cluster.Config.LoopWait));

        // Then s1 was in Patroni's cache and is dropped; s2 never was, and nothing scheduled a reload: it stays
        var slots = cluster.Observe().LeaderMember!.Slots;
        Assert.DoesNotContain(slots, s => s.Name == "s1");
        Assert.Contains(slots, s => s.Name == "s2");
    }

    [Fact]
    public void SynchronousModeSwitchedOn_LeaderKilledAtOnce_OnPatroni3_NoSyncKeyYet_AReplicaIsPromoted()
    {
        // Given five members, asynchronous
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { Members = 5 }, 6);
        cluster.Ok(new Settle());

        // When synchronous_mode is switched on and the leader is killed before its sync pass named a standby
        cluster.Ok(new PatchConfig(new ConfigPatch { SynchronousMode = SynchronousMode.Strict }));
        cluster.Ok(new Kill("pg1"));

        // Then no /sync key restricts the race (Patroni 3.0.2 writes it only once it names a standby): a replica leads
        cluster.Ok(new Settle());
        var leader = cluster.Observe().Leader;
        Assert.True(leader is not null && leader != "pg1", $"expected a replica to lead, found {leader ?? "none"}{cluster.Why()}");
    }

    [Fact]
    public void SlotsCreatedRightAfterAFailover_OnPatroni3_AreGoneAfterASettle()
    {
        // Given ttl 6, loop_wait 1, an unprotected slot s1 and a manual failover to pg3 (campaign seed 20261206, PostgreSQL 15 #77)
        var config = ClusterConfig.Default with { Ttl = 6, LoopWait = 1, RetryTimeout = 2 };
        using var cluster = fixture.Runtime.CreateCluster(config, ModelCluster.DefaultSeed);
        cluster.Ok(new CreateSlot("s3"));
        cluster.Ok(new Reconcile("s1"));
        cluster.Ok(new Write(1));
        cluster.Ok(new AdvanceWal(8192));
        cluster.Ok(new Checkpoint());
        cluster.Ok(new Failover("pg3"));

        // When slots are created on the new leader at once, and the cluster settles
        cluster.Ok(new CreateSlot("s2"));
        cluster.Ok(new Reconcile("s1"));
        cluster.Ok(new Settle());

        // Then the new leader's first slot pass after its promote task (2 s after the promotion with loop_wait 1) has
        // reloaded the slot state and dropped both
        var slots = cluster.Observe().LeaderMember!.Slots.Select(s => s.Name).ToList();
        Assert.True(slots.Count == 0, $"slots on the leader: {string.Join(",", slots)}{cluster.Why()}");
    }
}
