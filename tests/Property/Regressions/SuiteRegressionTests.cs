using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Running;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Tests.Property.Exploration;
using Xunit;

namespace PatroniModel.Tests.Property.Regressions;

/// <summary>
/// The shrunk sequences that exposed bugs in the suite's own property definitions: false alarms on behaviour Patroni
/// documents. Kept as explicit sequences (not replay strings) because the bug was in the checker, which no longer flags
/// them, so a replay string could not be re-recorded after a change to the generators. Every property must hold.
/// </summary>
public sealed class SuiteRegressionTests(ModelRuntimeFixture fixture) : IClassFixture<ModelRuntimeFixture>
{
    private static readonly ClusterConfig Async3 = ClusterConfig.Default;

    private void Holds(ClusterConfig config, params Step[] steps)
    {
        var outcome = SequenceRunner.Run(new ModelClusterFactory(fixture.Runtime), new Sequence(config, [.. steps]));
        Assert.True(outcome.Passed, $"{outcome.Violation}\n{outcome.History()}");
    }

    [Fact]
    public void Durability_WritesJustBeforeAFreeze_CountAsWrittenInTheLastTtl() =>
        // The async loss window was measured from the frozen ex-leader's last observation (after its thaw) instead of the
        // promotion: the 1.5 MB written just before the freeze counted as older than the last ttl.
        //   5 thaw pg1 => ok   <-- durability: 1500168 B lost > maximum_lag_on_failover 1048576 B + 0 B written in the last ttl
        Holds(Async3, new Restart("pg1"), new Write(1), new AdvanceWal(1_500_000), new Freeze("pg1"), new Settle(), new Thaw("pg1"));

    [Fact]
    public void Durability_PromotionInsideALongWait_IsDatedFromTheWaitsStart() =>
        // The promotion was dated at the end of the 30 s wait that first showed the new leader, so writes at t=0 fell
        // outside a window that really started before the promotion.
        //   5 wait 30s => ok   <-- durability: 1500168 B lost > maximum_lag_on_failover 1048576 B + 0 B
        Holds(Async3, new Restart("pg2"), new AdvanceWal(1_500_000), new Write(1), new Freeze("pg1"), new Freeze("pg3"), new Wait(30));

    [Fact]
    public void Durability_RowAcknowledgedBeforeAPatchToStrict_IsNotHeldToTheStrictRule() =>
        // The strict no-loss rule was applied to a row acknowledged in async mode, lost in an async failover, before a patch to strict.
        //   4 patch-config synchronous_mode=strict => ok   <-- durability: 1 acknowledged write lost in synchronous_mode_strict
        Holds(Async3, new Switchover("pg1"), new Write(1), new Kill("pg2"), new Settle(),
            new PatchConfig(new ConfigPatch { SynchronousMode = SynchronousMode.Strict }));

    [Fact]
    public void Durability_LossWrittenJustBeforeTheLeaderDied_IsAllowedAlthoughThePromotionCameMuchLater() =>
        // The window was counted back from the promotion (pg2 healed 120 s later) instead of from the moment pg1 stopped:
        // the 1.5 MB and 6 rows pg1 wrote just before it was killed counted as old.
        //   11 heal pg2 => ok   <-- durability: 1501008 B lost > maximum_lag_on_failover 1048576 B + 0 B written in the last ttl
        Holds(Async3, new Freeze("pg2"), new Kill("pg3"), new Thaw("pg2"), new AdvanceWal(1_500_000), new Write(20), new Start("pg3"),
            new Partition("pg2"), new Write(6), new AdvanceWal(1_500_000), new Kill("pg1"), new Settle(), new Heal("pg2"));

    [Fact]
    public void Durability_WalMovedJustBeforeTheLeaderDied_IsAllowedInStrictModeToo() =>
        // The same, in synchronous_mode_strict with maximum_lag_on_failover 64 KiB: 300000 B of WAL (no acknowledged row)
        // written just before the kill; the sync standby pg2 is promoted when healed, 120 s later.
        //   7 settle => ok: settled in 2500 ms   <-- durability: 300000 B lost > 65536 B + 0 B
        Holds(Async3 with { SynchronousMode = SynchronousMode.Strict, MaximumLagOnFailover = 65_536 },
            new Freeze("pg3"), new Partition("pg2"), new AdvanceWal(300_000), new Thaw("pg3"), new Kill("pg1"), new Settle(), new Heal("pg2"), new Settle());
}
