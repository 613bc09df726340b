using FsCheck.Xunit;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Running;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Tests.Property.Exploration;
using Xunit;

namespace PatroniModel.Tests.Property.Regressions;

/// <summary>
/// Replays of the sequences that exposed bugs in the model (reported to the lead; src/Model is not this suite's to edit).
/// Each regenerates the original sequence from FsCheck's <c>seed,gamma,size</c>, runs it on the model with the product's
/// reconciler and requires every property to hold. The shrunk counterexample the suite printed is kept as a comment.
/// </summary>
public sealed class ModelRegressionTests(ModelRuntimeFixture fixture) : IClassFixture<ModelRuntimeFixture>
{
    private void Holds(Sequence sequence)
    {
        var outcome = SequenceRunner.Run(new ModelClusterFactory(fixture.Runtime), sequence);
        Assert.True(outcome.Passed, $"{outcome.Violation}\n{outcome.History()}");
    }

    // pg1 is partitioned at t=500 and healed at t=2500, yet demotes at t=6000 ("could not reach the DCS within
    // retry_timeout"), then promotes again at t=8000 on timeline 2 (it still holds the lease). Its replicas never follow
    // the timeline switch although the fork point is at their position, and settle times out (shrunk from 41 steps;
    // 3 members, strict).
    //   0 write 6 => ok: acknowledged 6 of 6
    //   1 partition pg1 => ok
    //   2 wait 2s => ok
    //   3 heal pg1 => ok
    //   4 write 20 => failed: acknowledged 15 of 20
    //   5 write 14 => failed: acknowledged 0 of 14
    //   6 write 4 => failed: acknowledged 0 of 4
    //   7 settle => failed: not settled after 120000 ms: pg2 does not stream from pg1 on tl2 (upstream pg1, tl1)   <-- convergence
    //   after: leader=pg1 | pg1:leader tl2 0/3000F70 rows=22 | pg2:replica tl1 0/3000EA0 rows=21 | pg3:replica tl1 0/3000EA0 rows=21
    [Property(Arbitrary = [typeof(SequenceArbitraries)], Replay = "5833714510585439115,11733395455438697025,94", MaxTest = 1)]
    public void Convergence_ReplicasFollowTheirLeadersNewTimeline_AfterAShortPartition(Sequence sequence) => Holds(sequence);

    // The same bug after a kill and a start (3 members, ttl 6): the restarted leader promotes to a new timeline, the
    // replicas stay on the old one.
    //   0 kill pg1 => ok
    //   1 settle => ok: settled in 6500 ms
    //   2 partition pg3 => ok
    //   3 write 8 => failed: acknowledged 0 of 8
    //   4 start pg1 => ok
    //   5 heal pg3 => ok
    //   6 wait 5s => ok
    //   7 write 1 => ok: acknowledged 1 of 1
    //   8 settle => failed: not settled after 120000 ms: pg1 does not stream from pg3 on tl3 (upstream pg3, tl2)   <-- convergence
    [Property(Arbitrary = [typeof(SequenceArbitraries)], Replay = "12058680147508993688,9182644774388293243,78", MaxTest = 1)]
    public void Convergence_ReplicasFollowTheirLeadersNewTimeline_AfterAPartitionedLeaderHeals(Sequence sequence) => Holds(sequence);

    // A leader killed and started while it still holds the lease promotes (tl2) but never renews the lease, which expires
    // on the deadline of its last renewal before the kill; partitioned then, it is still writable on tl2 when pg3 wins the
    // race on tl3 (5 members): two writable leaders, outside any frozen-leader window.
    //   0 write 13 => ok: acknowledged 13 of 13
    //   1 kill pg1 => ok
    //   2 write 14 => failed: acknowledged 0 of 14
    //   3 write 18 => failed: acknowledged 0 of 18
    //   4 start pg1 => ok
    //   5 write 6 => failed: acknowledged 0 of 6
    //   6 kill pg5 => ok
    //   7 write 9 => failed: acknowledged 4 of 9
    //   8 partition pg1 => ok
    //   9 settle => ok: settled in 5500 ms   <-- one writable leader
    //   after: t=11000ms leader=pg3 | pg1:leader/partitioned tl2 writable | pg3:leader/running tl3 writable | lost=4
    [Property(Arbitrary = [typeof(SequenceArbitraries)], Replay = "8475610710180972423,3869674285584989141,72", MaxTest = 1)]
    public void OneWritableLeader_APartitionedLeaderDemotesBeforeItsLeaseExpires(Sequence sequence) => Holds(sequence);
}
