using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Scenarios;

/// <summary>Patroni behaviours (Patroni docs: dynamic_configuration, replication_modes, watchdog, pause; slots.py) beyond the seed's scenarios.</summary>
public sealed class PatroniBehaviourTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    [Fact]
    public void PermanentSlot_FailoverBeforeTheCopyIsReady_IsRecreatedAtTheCurrentLsn_FoundAhead()
    {
        // Given a permanent slot consumed on pg1, copied to pg2 but not yet safe to use there
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 3);
        cluster.Ok(new CreateSlot("s1", Permanent: true));
        cluster.Ok(new Write(3));
        cluster.Ok(new Consume("s1"));
        var lastConfirmed = cluster.Observe().Consumers.Single().LastConfirmed;
        cluster.Ok(new Wait(cluster.Config.LoopWait));
        Assert.Contains(cluster.Trace, e => e.Member == "pg2" && e.Kind == ModelEventKinds.SlotCopied);
        Assert.DoesNotContain(cluster.Trace, e => e.Kind == ModelEventKinds.SlotReady);

        // When pg1 switches over to pg2 and WAL moves on
        cluster.Ok(new Switchover("pg1", "pg2"));
        cluster.Ok(new Write(2));
        cluster.Ok(new Wait(cluster.Config.LoopWait));

        // Then the unready copy was lost, Patroni re-created the slot in its first slot pass after the promote task, and
        // EnsureSlot finds it ahead: a gap
        Assert.Contains(cluster.Trace, e => e.Kind == ModelEventKinds.SlotDropped && e.Detail.Contains("not ready", StringComparison.Ordinal));
        Assert.Contains(cluster.Trace, e => e.Kind == ModelEventKinds.SlotCreated && e.Detail.Contains("missing on the leader", StringComparison.Ordinal) && e.Member == "pg2");
        var report = cluster.Reconciled("s1");
        Assert.Equal(ReconcileOutcome.FoundAhead, report.Outcome);
        Assert.Equal(lastConfirmed, report.GapStart);
        Assert.True(report.GapBytes > 0);
    }

    [Fact]
    public void DeclaringAnExistingSlotPermanent_AdoptsItAtItsOwnPosition_AndCopiesItToReplicas()
    {
        // Given a hand-made slot consumed at a position, and WAL moved past it
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 4);
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(2));
        cluster.Ok(new Consume("s1"));
        var lastConfirmed = cluster.Observe().Consumers.Single().LastConfirmed;
        cluster.Ok(new Write(2));

        // When it is declared permanent (PATCH /config)
        cluster.Ok(new PatchConfig(new ConfigPatch { PermanentSlots = ["s1"] }));
        cluster.Ok(new Wait(10));

        // Then Patroni kept it at its own position (it creates permanent slots WHERE NOT EXISTS), copied it to both
        // replicas, and the consumer finds it where it left it
        var slot = cluster.Observe().LeaderMember!.Slots.Single(s => s.Name == "s1");
        Assert.Equal(lastConfirmed, slot.ConfirmedFlush);
        Assert.DoesNotContain(cluster.Trace, e => e.Kind == ModelEventKinds.SlotDropped);
        Assert.Equal(2, cluster.Trace.Count(e => e.Kind == ModelEventKinds.SlotCopied));
        Assert.Equal(ReconcileOutcome.Found, cluster.Reconciled("s1").Outcome);
    }

    [Fact]
    public void InitialPermanentSlots_AreCopiedAtTheBringUp_WithoutTheirWal_AndAFailoverBeforePatroniCopiesThemAgainLeavesAnUnusableSlot()
    {
        // Given a cluster configured with permanent slot s1: the bring-up left each replica a copy at the bootstrap position
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { PermanentSlots = ["s1"] }, 4);
        var initial = cluster.Observe();
        var leaderSlot = initial.LeaderMember!.Slots.Single(s => s.Name == "s1");
        Assert.All(initial.Members.Where(m => m.Name != "pg1"), m => Assert.Equal(leaderSlot.ConfirmedFlush, m.Slots.Single(s => s.Name == "s1").ConfirmedFlush));

        // When the consumer reads s1 and the leader switches over at once
        cluster.Ok(new Write(2));
        cluster.Ok(new Consume("s1"));
        cluster.Ok(new Switchover("pg1", "pg2"));

        // Then pg2's s1 is still the bring-up copy: behind the consumer, and decoding it fails for missing WAL
        // (Patroni 3.0.2: "Failed to advance logical replication slot 's1': requested WAL segment ... has already been removed")
        Assert.Contains(cluster.Trace, e => e.Kind == ModelEventKinds.SlotAdvanceFailed);
        Assert.Equal(ReconcileOutcome.Found, cluster.Reconciled("s1").Outcome);
        Assert.Equal(StepStatus.Failed, cluster.Apply(new Consume("s1")).Status);
    }

    [Fact]
    public void InitialPermanentSlotCopies_AreCopiedAgainAfterTheFailedAdvance_AndThenSurviveAFailover()
    {
        // Given a consumed permanent slot, and two of Patroni's loops for the replicas to fail the advance and copy it again
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { PermanentSlots = ["s1"] }, 4);
        cluster.Ok(new Write(2));
        cluster.Ok(new Consume("s1"));
        cluster.Ok(new Wait(cluster.Config.LoopWait * 2 + 5));

        // When the leader switches over
        cluster.Ok(new Switchover("pg1", "pg2"));

        // Then the new leader's slot works
        Assert.Contains(cluster.Trace, e => e.Kind == ModelEventKinds.SlotCopied && e.Detail.Contains("copied again", StringComparison.Ordinal));
        Assert.Equal(StepStatus.Ok, cluster.Apply(new Consume("s1")).Status);
    }

    [Fact]
    public void CreateSlotPermanent_OnAnExistingSlot_DeclaresItAndKeepsItsPosition()
    {
        // Given a hand-made slot s3
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 4);
        cluster.Ok(new CreateSlot("s3"));
        var before = cluster.Observe().LeaderMember!.Slots.Single(s => s.Name == "s3").ConfirmedFlush;
        cluster.Ok(new Write(2));

        // When the step declares it permanent
        cluster.Ok(new CreateSlot("s3", Permanent: true));

        // Then it is permanent, at its own position; a second declaration is refused, as is a plain create of an existing slot
        Assert.Contains("s3", cluster.Config.PermanentSlots);
        Assert.Equal(before, cluster.Observe().LeaderMember!.Slots.Single(s => s.Name == "s3").ConfirmedFlush);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new CreateSlot("s3", Permanent: true)).Status);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new CreateSlot("s3")).Status);
    }

    [Theory]
    [InlineData("freeze", true)]
    [InlineData("partition", true)]
    [InlineData("kill", false)]
    public void ReplicaGoneLongerThanTtl_DropsTheLeadersUnprotectedSlot_OnlyWhileItsWalSenderIsActive(string fault, bool dropped)
    {
        // Given an unprotected slot on the leader pg1, whose loops have seen every member's key
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 6);
        cluster.Ok(new Wait(cluster.Config.LoopWait * 2));
        cluster.Ok(new CreateSlot("s1"));

        // When pg2 is frozen, cut off or killed for longer than ttl (its member key expires)
        cluster.Ok(fault switch { "freeze" => new Freeze("pg2"), "partition" => new Partition("pg2"), _ => new Kill("pg2") });
        cluster.Ok(new Wait(cluster.Config.Ttl + cluster.Config.LoopWait * 2));

        // Then a silent standby's walsender is still active, Patroni's drop of its physical slot fails and the reload that
        // follows drops s1 ("Dropped unknown replication slot"); a killed standby's connection is closed, so s1 stays
        var leaderSlots = cluster.Observe().LeaderMember!.Slots.Select(s => s.Name).ToList();
        Assert.Equal(!dropped, leaderSlots.Contains("s1"));
        Assert.Equal(dropped, cluster.Trace.Any(e => e.Kind == ModelEventKinds.SlotDropped && e.Detail.Contains("still active", StringComparison.Ordinal)));
    }

    [Fact]
    public void SlotCreatedAfterTheWalSenderTimedOut_SurvivesAFrozenReplica()
    {
        // Given pg2 frozen for longer than wal_sender_timeout (its walsender on pg1 has ended)
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 7);
        cluster.Ok(new Freeze("pg2"));
        cluster.Ok(new Wait(70));

        // When the consumer creates its slot on pg1 and time passes
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Wait(cluster.Config.Ttl));

        // Then no reload drops it
        Assert.Contains(cluster.Observe().LeaderMember!.Slots, s => s.Name == "s1");
    }

    [Fact]
    public void UnprotectedSlot_IsDroppedOnTheDemotedExLeader_AndAbsentOnTheNewLeader()
    {
        // Given an unprotected slot on pg1
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 5);
        cluster.Ok(new CreateSlot("s1"));

        // When pg1 switches over to pg2
        cluster.Ok(new Switchover("pg1", "pg2"));
        cluster.Ok(new Settle());

        // Then Patroni dropped it on pg1 ("Dropped unknown replication slot") and pg2 never had it
        Assert.Contains(cluster.Trace, e => e.Member == "pg1" && e.Kind == ModelEventKinds.SlotDropped && e.Detail.Contains("role change", StringComparison.Ordinal));
        Assert.All(cluster.Observe().Members, m => Assert.DoesNotContain(m.Slots, s => s.Name == "s1"));
    }

    [Fact]
    public void ConfigChangesThatDoNotTouchPermanentSlots_DoNotDropSlots()
    {
        // Given an unprotected slot
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 6);
        cluster.Ok(new CreateSlot("s1"));

        // When loop_wait and ignore_slots change
        cluster.Ok(new PatchConfig(new ConfigPatch { LoopWait = 1 }));
        cluster.Ok(new PatchConfig(new ConfigPatch { IgnoreSlots = ["other"] }));
        cluster.Ok(new Wait(5));

        // Then the slot is still there
        Assert.Contains(cluster.Observe().LeaderMember!.Slots, s => s.Name == "s1");
        Assert.DoesNotContain(cluster.Trace, e => e.Kind == ModelEventKinds.SlotDropped);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AReplicaLaggingBeyondMaximumLagOnFailover_DoesNotRace_UnlessTheModelIsPlantedWrong(bool plantedBug)
    {
        // Given pg3 down while the leader writes 2 MB, then the leader reports that position, then pg1 and pg2 die
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 8, new ModelOptions { PlantedBugPromoteBeyondMaximumLag = plantedBug });
        cluster.Ok(new Kill("pg3"));
        cluster.Ok(new AdvanceWal(2_000_000));
        cluster.Ok(new Wait(cluster.Config.LoopWait + 1));
        cluster.Ok(new Kill("pg2"));
        cluster.Ok(new Kill("pg1"));

        // When pg3 comes back alone
        cluster.Ok(new Start("pg3"));
        cluster.Apply(new Settle());

        // Then it stays a replica (Patroni: it lags more than maximum_lag_on_failover); the planted model promotes it
        var observation = cluster.Observe();
        if (plantedBug)
        {
            Assert.Equal("pg3", observation.Leader);
        }
        else
        {
            Assert.Null(observation.Leader);
            Assert.DoesNotContain(cluster.Trace, e => e.Kind == ModelEventKinds.Promoted);
        }
    }

    [Fact]
    public void FailoverToAMemberStillStarting_IsRefused_ItsStatusHasNoWalPositionYet()
    {
        // Given pg2 killed, the leader frozen, and pg2 started again
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 9);
        cluster.Ok(new Kill("pg2"));
        cluster.Ok(new Freeze("pg1"));
        cluster.Ok(new Start("pg2"));

        // When a failover to pg2 is asked at once, Patroni finds no good candidate (api.py is_failover_possible)
        var refused = cluster.Apply(new Failover("pg2"));

        // Then it is refused, and once PostgreSQL runs on pg2 the same failover goes through
        Assert.Equal(StepStatus.Refused, refused.Status);
        Assert.Contains("no good candidates", refused.Detail, StringComparison.Ordinal);
        cluster.Ok(new Wait(2));
        cluster.Ok(new Failover("pg2"));
        Assert.Equal("pg2", cluster.Observe().Leader);
    }

    [Fact]
    public void RightAfterASwitchover_TheOldLeaderIsStillDemoting_RestartAndSwitchingBackAreRefused_UntilItIsDone()
    {
        // Given a switchover from pg1 to pg2, answered
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 9);
        cluster.Ok(new Switchover("pg1", "pg2"));

        // When pg1 is restarted, or switched back to, at once
        var restart = cluster.Apply(new Restart("pg1"));
        var back = cluster.Apply(new Switchover("pg2", "pg1"));

        // Then both are refused: Patroni's demotion (stop, start as a replica) is still running on pg1
        Assert.Equal(StepStatus.Refused, restart.Status);
        Assert.Contains("demote already in progress", restart.Detail, StringComparison.Ordinal);
        Assert.Equal(StepStatus.Refused, back.Status);

        // And once it is done, switching back goes through
        cluster.Ok(new Wait(2));
        cluster.Ok(new Switchover("pg2", "pg1"));
        Assert.Equal("pg1", cluster.Observe().Leader);
    }

    [Fact]
    public void SwitchoverToAFrozenOrStoppedCandidate_IsRefused_AndWithoutCandidatesToo()
    {
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 9);

        // Given pg2 frozen and pg3 stopped
        cluster.Ok(new Freeze("pg2"));
        cluster.Ok(new Kill("pg3"));

        // Then switchovers to them, or to anyone, are refused, and so are impossible member steps
        Assert.Equal(StepStatus.Refused, cluster.Apply(new Switchover("pg1", "pg2")).Status);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new Switchover("pg1", "pg3")).Status);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new Switchover("pg1")).Status);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new Switchover("pg2")).Status);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new Thaw("pg3")).Status);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new Start("pg1")).Status);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new Kill("pg3")).Status);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new Heal("pg1")).Status);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new Failover("pg1")).Status);
        Assert.Equal(StepStatus.Refused, cluster.Apply(new CreateSlot("Bad-Name")).Status);

        // And with every member down, a write fails
        cluster.Ok(new Kill("pg1"));
        Assert.Equal(StepStatus.Failed, cluster.Apply(new Write(1)).Status);
        Assert.Equal(ReconcileOutcome.Error, cluster.Apply(new Reconcile("s1")).Reconcile!.Outcome);
    }

    [Fact]
    public void ManualFailover_WithoutAHealthyLeader_PromotesTheCandidate()
    {
        // Given the leader frozen
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 10);
        cluster.Ok(new Write(2));
        cluster.Ok(new Freeze("pg1"));

        // When a failover to pg3 is requested
        var result = cluster.Ok(new Failover("pg3"));

        // Then pg3 leads once pg1's lease is gone
        Assert.Equal("pg3", cluster.Observe().Leader);
        Assert.Contains("pg3", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void WithReplicationLag_AHardKillLosesTheAcknowledgedWritesNoReplicaHad()
    {
        // Given replicas that receive WAL up to 2 s late (seeded), and rows acknowledged by pg1 just before it dies
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 12, new ModelOptions { MaxReplicationDelayMilliseconds = 2_000 });
        cluster.Ok(new Write(5));
        cluster.Ok(new Kill("pg1"));

        // When a replica is promoted
        cluster.Ok(new Settle());

        // Then the rows it never received are lost, reported as write-lost and in the observation
        var observation = cluster.Observe();
        Assert.NotEmpty(observation.LostAcknowledged);
        Assert.Equal(
            observation.LostAcknowledged.Select(id => $"row={id}"),
            cluster.Trace.Where(e => e.Kind == ModelEventKinds.WriteLost).Select(e => e.Detail.Split(' ')[0]));

        // And the same faults without lag lose nothing
        using var prompt = fixture.Runtime.CreateCluster(ClusterConfig.Default, 12);
        prompt.Ok(new Write(5));
        prompt.Ok(new Kill("pg1"));
        prompt.Ok(new Settle());
        Assert.Empty(prompt.Observe().LostAcknowledged);
    }

    [Fact]
    public void AConsumerThatConfirmedWalTheNewTimelineNeverHad_IsReportedDiverged_AtTheForkLsn()
    {
        // Given replicas that receive WAL late, and a consumer that confirmed WAL on pg1 they had not received yet
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, 13, new ModelOptions { MaxReplicationDelayMilliseconds = 3_000 });
        cluster.Ok(new CreateSlot("s1"));
        cluster.Ok(new Write(3));
        cluster.Ok(new Consume("s1"));
        var consumer = cluster.Observe().Consumers.Single();

        // When pg1 dies at once and a replica is promoted
        cluster.Ok(new Kill("pg1"));
        cluster.Ok(new Settle());

        // Then the new timeline forked below the consumer's position, and EnsureSlot says so with the fork LSN from the history
        var promoted = cluster.Trace.Single(e => e.Kind == ModelEventKinds.Promoted);
        var fork = PatroniModel.Scenarios.Wal.Lsn.Parse(promoted.Detail.Split(' ')[1]["fork=".Length..]);
        Assert.True(fork < consumer.LastConfirmed, cluster.Why());
        var report = cluster.Reconciled("s1");
        Assert.Equal(ReconcileOutcome.Diverged, report.Outcome);
        Assert.Equal(fork, report.Fork);
    }
}
