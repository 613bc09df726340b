using System.Collections.Immutable;
using PatroniModel.Conformance.Comparing;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;
using Xunit;

namespace PatroniModel.Tests.ConformanceTests.Comparing;

public sealed class ObservationAbstractionTests
{
    internal static MemberObservation Member(string name, MemberRole role, MemberState state = MemberState.Running, int timeline = 1, ulong lsn = 0x3000000, string digest = "d1", params string[] slots) =>
        new(name, role, state, timeline, new Lsn(lsn), role == MemberRole.Leader, role == MemberRole.Replica,
            [.. slots.Select(s => new SlotObservation(s, new Lsn(lsn), new Lsn(lsn)))], digest, 3);

    internal static Observation Cluster(string? leader, params MemberObservation[] members) =>
        new(0, leader, [.. members], [], 3, []);

    private static Observation ThreeMembers(string leader = "pg1", int timeline = 1, ulong leaderLsn = 0x3000000) => Cluster(
        leader,
        Member("pg1", leader == "pg1" ? MemberRole.Leader : MemberRole.Replica, timeline: timeline, lsn: leader == "pg1" ? leaderLsn : 0x2000000, slots: leader == "pg1" ? ["s1"] : []),
        Member("pg2", leader == "pg2" ? MemberRole.Leader : MemberRole.Replica, timeline: timeline, lsn: leader == "pg2" ? leaderLsn : 0x2000000, slots: leader == "pg2" ? ["s1"] : []),
        Member("pg3", MemberRole.Replica, timeline: timeline, lsn: 0x2000000));

    private static ImmutableArray<string> Compare(Step step, Observation model, Observation reality, bool stable = true, StepResult? modelResult = null, StepResult? realResult = null, Observation? stableBefore = null) =>
        ObservationAbstraction.Compare(
            modelResult ?? StepResult.Ok(step), model, stableBefore ?? ThreeMembers(),
            realResult ?? StepResult.Ok(step), reality, stableBefore ?? ThreeMembers(),
            stable, ["pg2", "pg3"]);

    [Fact]
    public void Compare_OfEqualAbstractions_WithDifferentRawLsns_Agrees()
    {
        // Given the same cluster shape where only raw WAL positions differ
        var model = ThreeMembers(leaderLsn: 0x3000000);
        var reality = ThreeMembers(leaderLsn: 0x5A00000);

        // When compared after a stable step
        var differences = Compare(new Settle(), model, reality);

        // Then they agree
        Assert.Empty(differences);
    }

    [Fact]
    public void Compare_OfDifferentLeaders_AfterSettle_ReportsTheModelsAllowedSet()
    {
        var differences = Compare(new Settle(), ThreeMembers("pg2", 2), ThreeMembers("pg1", 2));

        Assert.Contains("leader: model pg2, reality pg1 (model allowed: pg2, pg3)", differences);
    }

    [Fact]
    public void Compare_RightAfterATopologyStep_ComparesOnlyProcessStates()
    {
        // Given reality has already promoted pg2 while the model still shows pg1 as leader, and pg1 is stopped on both
        var model = Cluster("pg1", Member("pg1", MemberRole.Unknown, MemberState.Stopped), Member("pg2", MemberRole.Replica), Member("pg3", MemberRole.Replica));
        var reality = Cluster("pg2", Member("pg1", MemberRole.Unknown, MemberState.Stopped), Member("pg2", MemberRole.Leader, timeline: 2), Member("pg3", MemberRole.Replica));

        Assert.Empty(Compare(new Kill("pg1"), model, reality, stable: false));

        // When the process states differ, that is reported even in transition
        var frozen = reality with { Members = reality.Members.SetItem(0, Member("pg1", MemberRole.Unknown, MemberState.Frozen)) };
        Assert.Contains("pg1 state: model stopped, reality frozen", Compare(new Kill("pg1"), model, frozen, stable: false));
    }

    [Fact]
    public void Compare_OfReconcileOutcomes_ReportsKindAndZeroGapDifferences()
    {
        var step = new Reconcile("s1");
        ReconcileObservation Outcome(ReconcileOutcome kind, long bytes) =>
            new("s1", kind, "pg2", new Lsn(0x100), new Lsn(0x100 + (ulong)bytes), new Lsn(0x100), new Lsn(0x100 + (ulong)bytes), bytes, 0, null, true);
        var observation = ThreeMembers();

        var kind = Compare(step, observation, observation,
            modelResult: StepResult.Ok(step) with { Reconcile = Outcome(ReconcileOutcome.RecreatedWithGap, 64) },
            realResult: StepResult.Ok(step) with { Reconcile = Outcome(ReconcileOutcome.Found, 0) });
        var bytes = Compare(step, observation, observation,
            modelResult: StepResult.Ok(step) with { Reconcile = Outcome(ReconcileOutcome.RecreatedWithGap, 64) },
            realResult: StepResult.Ok(step) with { Reconcile = Outcome(ReconcileOutcome.RecreatedWithGap, 9000) });

        Assert.Contains("reconcile s1 outcome: model RecreatedWithGap, reality Found", kind);
        Assert.Empty(bytes);
    }

    [Fact]
    public void Compare_OfLostAcknowledgedWrites_OnOneSideOnly_Disagrees()
    {
        var model = ThreeMembers("pg2", 2);
        var reality = model with { LostAcknowledged = [41, 42] };

        var differences = Compare(new Settle(), model, reality);

        Assert.Contains("lost acknowledged writes: model 0, reality 2 (rows 41,42)", differences);
    }

    [Fact]
    public void Compare_OfATimelineThatMovedOnOneSideOnly_Disagrees()
    {
        var differences = Compare(new Settle(), ThreeMembers("pg1", 1), ThreeMembers("pg1", 2));

        Assert.Contains("leader timeline moved: model False, reality True", differences);
    }

    [Fact]
    public void Compare_OfAReplicaPastItsLeader_IsReportedForThatSide()
    {
        var reality = Cluster("pg1", Member("pg1", MemberRole.Leader, lsn: 0x1000, slots: ["s1"]), Member("pg2", MemberRole.Replica, lsn: 0x2000), Member("pg3", MemberRole.Replica, lsn: 0x1000));
        var model = Cluster("pg1", Member("pg1", MemberRole.Leader, lsn: 0x1000, slots: ["s1"]), Member("pg2", MemberRole.Replica, lsn: 0x1000), Member("pg3", MemberRole.Replica, lsn: 0x1000));

        var differences = Compare(new Settle(), model, reality);

        Assert.Contains("reality: replica pg2 at 0/2000 is past leader pg1 at 0/1000", differences);
    }
}
