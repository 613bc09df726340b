using FsCheck.Xunit;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Running;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Tests.Property.Exploration;
using Xunit;

namespace PatroniModel.Tests.Property.Regressions;

/// <summary>
/// Replays of the sequences that exposed bugs in the suite's own property definitions (false alarms on correct Patroni
/// behaviour). Each regenerates the original sequence from FsCheck's <c>seed,gamma,size</c> and runs it on the model with
/// the product's reconciler; every property must hold. The shrunk counterexample the suite printed is kept as a comment.
/// </summary>
public sealed class SuiteRegressionTests(ModelRuntimeFixture fixture) : IClassFixture<ModelRuntimeFixture>
{
    private void Holds(Sequence sequence)
    {
        var outcome = SequenceRunner.Run(new ModelClusterFactory(fixture.Runtime), sequence);
        Assert.True(outcome.Passed, $"{outcome.Violation}\n{outcome.History()}");
    }

    // Durability measured the async loss window from the last observation of the frozen ex-leader instead of the promotion:
    // writes made just before a freeze were counted as older than the last ttl.
    //   0 restart pg1 => ok
    //   1 write 1 => ok: acknowledged 1 of 1
    //   2 advance-wal 1500000 => ok: Message 0/3000180..0/316E4E0 on pg1
    //   3 freeze pg1 => ok
    //   4 settle => ok: settled in 10500 ms
    //   5 thaw pg1 => ok   <-- durability (1500168 B lost > maximum_lag_on_failover + 0 B written in the last ttl)
    [Property(Arbitrary = [typeof(SequenceArbitraries)], Replay = "3414171700582297179,12553437107042698233,77", MaxTest = 1)]
    public void Durability_WritesJustBeforeAFreeze_CountAsWrittenInTheLastTtl(Sequence sequence) => Holds(sequence);

    // The promotion time was taken as the end of the step that first showed the new leader (a 30 s wait), so writes made
    // at t=0 fell outside a window that really started before the promotion.
    //   0 restart pg2 => ok
    //   1 advance-wal 1500000 => ok: Message 0/3000060..0/316E3C0 on pg1
    //   2 write 1 => ok: acknowledged 1 of 1
    //   3 freeze pg1 => ok
    //   4 freeze pg3 => ok
    //   5 wait 30s => ok   <-- durability (1500168 B lost > maximum_lag_on_failover + 0 B)
    [Property(Arbitrary = [typeof(SequenceArbitraries)], Replay = "10917062927286371899,14921413278214378943,51", MaxTest = 1)]
    public void Durability_PromotionInsideALongWait_IsDatedFromTheWaitsStart(Sequence sequence) => Holds(sequence);

    // The strict no-loss rule was applied to a row acknowledged in async mode before a patch to strict.
    //   0 switchover pg1->any => ok: pg1 -> pg2 in 0 ms
    //   1 write 1 => ok: acknowledged 1 of 1
    //   2 kill pg2 => ok
    //   3 settle => ok: settled in 10000 ms
    //   4 patch-config synchronous_mode=strict => ok   <-- durability (1 acknowledged write lost in synchronous_mode_strict)
    [Property(Arbitrary = [typeof(SequenceArbitraries)], Replay = "7316303465404761069,2159909357200059409,81", MaxTest = 1)]
    public void Durability_RowAcknowledgedBeforeAPatchToStrict_IsNotHeldToTheStrictRule(Sequence sequence) => Holds(sequence);
}
