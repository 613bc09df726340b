using Xunit;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Tests.ScenariosTests.Faults;

public sealed class StepTextTests
{
    public static TheoryData<Step, string> Lines => new()
    {
        { new Kill("pg2"), "kill pg2" },
        { new Start("pg2"), "start pg2" },
        { new Freeze("pg1"), "freeze pg1" },
        { new Thaw("pg1"), "thaw pg1" },
        { new Partition("pg3"), "partition pg3" },
        { new Heal("pg3"), "heal pg3" },
        { new Restart("pg1"), "restart pg1" },
        { new Switchover("pg1", "pg3"), "switchover pg1->pg3" },
        { new Switchover("pg1"), "switchover pg1->any" },
        { new Failover("pg2"), "failover ->pg2" },
        { new CreateSlot("s1"), "create-slot s1" },
        { new CreateSlot("s1", true), "create-slot s1 permanent" },
        { new DropSlot("s1"), "drop-slot s1" },
        { new Write(3), "write 3" },
        { new Consume("s1"), "consume s1" },
        { new AdvanceWal(4096), "advance-wal 4096" },
        { new Checkpoint(), "checkpoint" },
        { new Reconcile("s1"), "reconcile s1" },
        { new Reconcile("s1", new Lsn(0x3000060)), "reconcile s1 from 0/3000060" },
        { new Reconcile("s1", new Lsn(0xFFFFFFFF00000000), 1), "reconcile s1 from FFFFFFFF/0 tl1" },
        { new Settle(), "settle" },
        { new Wait(12), "wait 12s" },
        { new PatchConfig(new ConfigPatch { PermanentSlots = ["s1"], IgnoreSlots = ["s3"] }), "patch-config permanent_slots=[s1] ignore_slots=[s3]" },
        { new PatchConfig(new ConfigPatch { Ttl = 6, LoopWait = 1, SynchronousMode = SynchronousMode.Strict }), "patch-config ttl=6 loop_wait=1 synchronous_mode=strict" },
    };

    [Theory]
    [MemberData(nameof(Lines))]
    public void ToString_IsOneShortStableLine(Step step, string expected)
    {
        Assert.Equal(expected, step.ToString());
    }

    [Fact]
    public void EveryKind_HasAHistoryLineStartingWithItsKind()
    {
        var kinds = Lines.Select(row => (Step)row[0]).Select(s => s.Kind).ToHashSet();

        Assert.Equal(StepKinds.All.ToHashSet(), kinds);
    }
}
