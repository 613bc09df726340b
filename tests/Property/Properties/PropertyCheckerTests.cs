using System.Collections.Immutable;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Properties;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;
using Xunit;

namespace PatroniModel.Tests.Property.Properties;

/// <summary>The properties on hand-built observations: each can fail, and each allows what Patroni documents.</summary>
public sealed class PropertyCheckerTests
{
    private sealed class FixedCluster(ClusterConfig config, IReadOnlyList<TimelineEnd>? history = null) : ISimulatedCluster
    {
        public ClusterConfig Config { get; } = config;
        public StepResult Apply(Step step) => throw new NotSupportedException();
        public Observation Observe() => throw new NotSupportedException();
        public IReadOnlyList<TimelineEnd>? TimelineHistory(string member, int timeline) => history ?? [];
        public string TraceText() => "";
        public void Dispose()
        {
        }
    }

    private static MemberObservation Member(string name, bool leader, int timeline, long wal, bool writable,
        MemberState state = MemberState.Running, string digest = "d", int rows = 0) =>
        new(name, leader ? MemberRole.Leader : MemberRole.Replica, state, timeline, new Lsn((ulong)wal), writable, !leader, [], digest, rows);

    private static Observation At(long ms, string? leader, params MemberObservation[] members) =>
        new(ms, leader, [.. members], [], 0, []);

    private static readonly ClusterConfig Config = ClusterConfig.Default;

    [Fact]
    public void OneWritableLeader_TwoWritableMembersNeverFrozen_IsViolated()
    {
        // Given
        var checker = new PropertyChecker(new FixedCluster(Config));
        var before = At(0, "pg1", Member("pg1", true, 1, 100, true), Member("pg2", false, 1, 100, false));
        checker.Start(before);

        // When pg2 is writable on timeline 2 while pg1 still is on timeline 1
        var after = At(1_000, "pg2", Member("pg1", false, 1, 100, true), Member("pg2", true, 2, 100, true));
        var violation = checker.Check(0, new Wait(1), StepResult.Ok(new Wait(1)), before, after);

        // Then
        Assert.Equal(PropertyLabels.OneWritableLeader, violation?.Label);
    }

    [Fact]
    public void OneWritableLeader_ThawedExLeaderInsideTheWindow_IsAllowedButNotAfterIt()
    {
        // Given pg1 (ex-leader, timeline 1) thawed at t=20000 while pg2 leads on timeline 2
        var checker = new PropertyChecker(new FixedCluster(Config));
        var frozen = At(20_000, "pg2", Member("pg1", false, 1, 100, false, MemberState.Frozen), Member("pg2", true, 2, 100, true));
        checker.Start(frozen);
        var thawed = At(20_300, "pg2", Member("pg1", false, 1, 100, true), Member("pg2", true, 2, 100, true));

        // When / Then still writable 300 ms after the thaw: inside the documented window
        Assert.Null(checker.Check(0, new Thaw("pg1"), StepResult.Ok(new Thaw("pg1")), frozen, thawed));

        // When / Then still writable 30 s after the thaw: past loop_wait + retry_timeout
        var late = At(50_000, "pg2", Member("pg1", false, 1, 100, true), Member("pg2", true, 2, 100, true));
        Assert.Equal(PropertyLabels.OneWritableLeader, checker.Check(1, new Wait(30), StepResult.Ok(new Wait(30)), thawed, late)?.Label);
    }

    [Fact]
    public void Durability_LostAcknowledgedWriteInStrictMode_IsViolated()
    {
        // Given a strict cluster
        var checker = new PropertyChecker(new FixedCluster(Config with { SynchronousMode = SynchronousMode.Strict }));
        var before = At(0, "pg1", Member("pg1", true, 1, 100, true), Member("pg2", false, 1, 100, false));
        checker.Start(before);

        // When an acknowledged row is missing on the new leader
        var after = At(1_000, "pg2", Member("pg1", false, 1, 100, false, MemberState.Stopped), Member("pg2", true, 2, 100, true)) with
        {
            Acknowledged = 1,
            LostAcknowledged = [1],
        };

        // Then
        Assert.Equal(PropertyLabels.Durability, checker.Check(0, new Kill("pg1"), StepResult.Ok(new Kill("pg1")), before, after)?.Label);
    }

    [Fact]
    public void Durability_AsyncLossBeyondMaximumLagOfOldWrites_IsViolatedButRecentWritesAreAllowed()
    {
        // Given timeline 1 wrote 2 MiB long ago (t=0..1000) and the new leader's timeline 2 forked 2 MiB before its end
        var history = new[] { new TimelineEnd(1, new Lsn(0x1000)) };
        var checker = new PropertyChecker(new FixedCluster(Config, history));
        var start = At(0, "pg1", Member("pg1", true, 1, 0x1000, true), Member("pg2", false, 1, 0x1000, false));
        checker.Start(start);
        var wrote = At(1_000, "pg1", Member("pg1", true, 1, 0x1000 + 2_097_152, true), Member("pg2", false, 1, 0x1000, false, MemberState.Partitioned));
        Assert.Null(checker.Check(0, new AdvanceWal(2_097_152), StepResult.Ok(new AdvanceWal(2_097_152)), start, wrote));
        var quiet = wrote with { AtMilliseconds = 60_000 };
        Assert.Null(checker.Check(1, new Wait(59), StepResult.Ok(new Wait(59)), wrote, quiet));

        // When pg2 leads on timeline 2 and acknowledged rows are lost
        var after = At(80_000, "pg2", Member("pg1", false, 1, 0x1000 + 2_097_152, false, MemberState.Stopped), Member("pg2", true, 2, 0x1000, true)) with
        {
            LostAcknowledged = [1],
        };

        // Then 2 MiB lost, written more than a ttl before the end, is more than maximum_lag_on_failover (1 MiB)
        Assert.Equal(PropertyLabels.Durability, checker.Check(2, new Kill("pg1"), StepResult.Ok(new Kill("pg1")), quiet, after)?.Label);

        // And the same loss is allowed when the writes were within the last ttl
        var recent = new PropertyChecker(new FixedCluster(Config, history));
        recent.Start(start);
        Assert.Null(recent.Check(0, new AdvanceWal(2_097_152), StepResult.Ok(new AdvanceWal(2_097_152)), start, wrote));
        Assert.Null(recent.Check(1, new Kill("pg1"), StepResult.Ok(new Kill("pg1")), wrote, after with { AtMilliseconds = 5_000 }));
    }

    [Fact]
    public void Convergence_DigestDiffersAfterSettleWithEveryMemberRunning_IsViolated()
    {
        // Given
        var checker = new PropertyChecker(new FixedCluster(Config));
        var before = At(0, "pg1", Member("pg1", true, 1, 100, true, digest: "a", rows: 2), Member("pg2", false, 1, 100, false, digest: "b", rows: 1));
        checker.Start(before);

        // When / Then
        Assert.Equal(PropertyLabels.Convergence, checker.Check(0, new Settle(), StepResult.Ok(new Settle()), before, before with { AtMilliseconds = 5_000 })?.Label);
    }

    [Fact]
    public void Liveness_NoLeaderLongerThanTheBoundAfterHealing_IsViolated()
    {
        // Given every member running and no leader
        var checker = new PropertyChecker(new FixedCluster(Config));
        var healed = At(0, null, Member("pg1", false, 1, 100, false), Member("pg2", false, 1, 100, false));
        checker.Start(healed);

        // When / Then inside ttl + loop_wait + retry_timeout (16 s): allowed
        var soon = healed with { AtMilliseconds = 10_000 };
        Assert.Null(checker.Check(0, new Wait(10), StepResult.Ok(new Wait(10)), healed, healed with { AtMilliseconds = 1 }));
        Assert.Null(checker.Check(1, new Wait(10), StepResult.Ok(new Wait(10)), healed, soon));

        // When / Then past it: violated
        var late = healed with { AtMilliseconds = 30_000 };
        Assert.Equal(PropertyLabels.Liveness, checker.Check(2, new Wait(20), StepResult.Ok(new Wait(20)), soon, late)?.Label);
    }

    [Fact]
    public void CurrentLeader_AReportOnAMemberThatDoesNotHoldTheLeaderKey_IsViolated()
    {
        // Given pg2 holds the leader key and the slot, pg1 (the ex-leader) holds a copy at the consumer's position
        var checker = new PropertyChecker(new FixedCluster(Config));
        var slot = new SlotObservation("s1", new Lsn(0x2000), new Lsn(0x2000));
        var before = new Observation(0, "pg2",
            [Member("pg1", false, 1, 0x3000, false) with { Slots = [slot] }, Member("pg2", true, 2, 0x3000, true) with { Slots = [slot] }],
            [new ConsumerPosition("s1", new Lsn(0x2000), 2)], 0, []);
        checker.Start(before);
        var onPg1 = new ReconcileObservation("s1", ReconcileOutcome.Found, "pg1", new Lsn(0x2000), new Lsn(0x2000), null, null, 0, 0, null, false);

        // When the reconciler reports the slot found on pg1
        var violation = checker.Check(0, new Reconcile("s1"), new StepResult(new Reconcile("s1"), StepStatus.Ok, "", onPg1), before, before);

        // Then the report is judged, and it is about the wrong member
        Assert.Equal(PropertyLabels.CurrentLeader, violation?.Label);

        // And the same report on pg2 holds
        var onPg2 = onPg1 with { Leader = "pg2" };
        Assert.Null(checker.Check(1, new Reconcile("s1"), new StepResult(new Reconcile("s1"), StepStatus.Ok, "", onPg2), before, before));
    }

    [Fact]
    public void CurrentLeader_AReportWhenNoMemberHeldTheLeaderKey_IsViolated()
    {
        // Given no member holds the leader key
        var checker = new PropertyChecker(new FixedCluster(Config));
        var before = At(0, null, Member("pg1", false, 1, 0x3000, false), Member("pg2", false, 1, 0x3000, false));
        checker.Start(before);
        var report = new ReconcileObservation("s1", ReconcileOutcome.Created, "pg1", null, new Lsn(0x3000), null, null, 0, 0, null, false);

        // When the reconciler reports a slot created on pg1
        var violation = checker.Check(0, new Reconcile("s1"), new StepResult(new Reconcile("s1"), StepStatus.Ok, "", report), before, before);

        // Then
        Assert.Equal(PropertyLabels.CurrentLeader, violation?.Label);
    }

    [Fact]
    public void PersistedPosition_MovingBackOutsideAConsume_IsViolatedButAConsumeMayMoveItBack()
    {
        // Given the consumer persisted 0/2000 on s1
        var leader = Member("pg1", true, 1, 0x3000, true) with { Slots = [new SlotObservation("s1", new Lsn(0x1000), new Lsn(0x1000))] };
        var at2000 = new Observation(0, "pg1", [leader], [new ConsumerPosition("s1", new Lsn(0x2000), 1)], 0, []);
        var at1000 = at2000 with { Consumers = [new ConsumerPosition("s1", new Lsn(0x1000), 1)] };
        var report = new ReconcileObservation("s1", ReconcileOutcome.Found, "pg1", new Lsn(0x2000), new Lsn(0x1000), null, null, 0, 0x1000, null, false);

        // When a consume reads the slot from its own position (behind the consumer's): Then allowed
        var consuming = new PropertyChecker(new FixedCluster(Config));
        consuming.Start(at2000);
        Assert.Null(consuming.Check(0, new Consume("s1"), StepResult.Ok(new Consume("s1")), at2000, at1000));

        // When a reconcile that found the slot behind leaves the consumer at the slot's position: Then violated
        var reconciling = new PropertyChecker(new FixedCluster(Config));
        reconciling.Start(at2000);
        var violation = reconciling.Check(0, new Reconcile("s1"), new StepResult(new Reconcile("s1"), StepStatus.Ok, "", report), at2000, at1000);
        Assert.Equal(PropertyLabels.PersistedPosition, violation?.Label);
        Assert.Contains("moved back from 0/2000/tl1 to 0/1000/tl1 at a 'reconcile' step", violation!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PersistedPosition_AConsumerThatReStampedItsDivergedPositionWithTheLeadersTimeline_IsReportedFound_IsViolated()
    {
        // Given the consumer persisted 0/2000 on timeline 1, which ended at 0/1000 in the leader's history (phantoms)
        var history = new[] { new TimelineEnd(1, new Lsn(0x1000)) };
        var checker = new PropertyChecker(new FixedCluster(Config, history));
        var leader = Member("pg2", true, 2, 0x3000, true) with { Slots = [new SlotObservation("s1", new Lsn(0x2000), new Lsn(0x2000))] };
        var diverged = new Observation(0, "pg2", [leader], [new ConsumerPosition("s1", new Lsn(0x2000), 1)], 0, []);
        checker.Start(diverged);
        var restamped = diverged with { Consumers = [new ConsumerPosition("s1", new Lsn(0x2000), 2)] };
        Assert.Null(checker.Check(0, new Wait(1), StepResult.Ok(new Wait(1)), diverged, restamped));

        // When the consumer, now claiming timeline 2, is reconciled and the slot is at its position
        var found = new ReconcileObservation("s1", ReconcileOutcome.Found, "pg2", new Lsn(0x2000), new Lsn(0x2000), null, null, 0, 0, null, false);
        var violation = checker.Check(1, new Reconcile("s1"), new StepResult(new Reconcile("s1"), StepStatus.Ok, "", found), restamped, restamped);

        // Then the divergence it holds may not be reported as found
        Assert.Equal(PropertyLabels.PersistedPosition, violation?.Label);
    }

    [Fact]
    public void Divergence_AProbeOnATimelineNewerThanTheLeaders_IsDivergedAtAnUnknownPoint()
    {
        // Given pg2 leads on timeline 2 with the slot at 0/2000
        var checker = new PropertyChecker(new FixedCluster(Config, [new TimelineEnd(1, new Lsn(0x1000))]));
        var leader = Member("pg2", true, 2, 0x3000, true) with { Slots = [new SlotObservation("s1", new Lsn(0x2000), new Lsn(0x2000))] };
        var before = new Observation(0, "pg2", [leader], [], 0, []);
        checker.Start(before);
        var probe = new Reconcile("s1", new Lsn(0x2000), 3);
        var diverged = new ReconcileObservation("s1", ReconcileOutcome.Diverged, "pg2", new Lsn(0x2000), new Lsn(0x2000), null, null, 0, 0, null, false);

        // When a probe from timeline 3 is reported diverged (fork unknown), and then found
        var asDiverged = checker.Check(0, probe, new StepResult(probe, StepStatus.Ok, "", diverged), before, before);
        var asFound = checker.Check(1, probe, new StepResult(probe, StepStatus.Ok, "", diverged with { Outcome = ReconcileOutcome.Found }), before, before);

        // Then diverged holds, as the reconciler documents it, and found is a missed divergence
        Assert.Null(asDiverged);
        Assert.Equal(PropertyLabels.Divergence, asFound?.Label);
    }

    [Fact]
    public void Divergence_ConsumerPastTheForkButReconcilerSaysFound_IsViolated()
    {
        // Given the consumer confirmed 0/2000 on timeline 1, which ended at 0/1000 in the leader's history
        var history = new[] { new TimelineEnd(1, new Lsn(0x1000)) };
        var checker = new PropertyChecker(new FixedCluster(Config, history));
        var leader = Member("pg2", true, 2, 0x3000, true) with { Slots = [new SlotObservation("s1", new Lsn(0x2000), new Lsn(0x2000))] };
        var before = new Observation(0, "pg2", [leader], [new ConsumerPosition("s1", new Lsn(0x2000), 1)], 0, []);
        checker.Start(before);
        var report = new ReconcileObservation("s1", ReconcileOutcome.Found, "pg2", new Lsn(0x2000), new Lsn(0x2000), null, null, 0, 0, null, false);

        // When
        var violation = checker.Check(0, new Reconcile("s1"), new StepResult(new Reconcile("s1"), StepStatus.Ok, "", report), before, before);

        // Then
        Assert.Equal(PropertyLabels.Divergence, violation?.Label);
    }
}
