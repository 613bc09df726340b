using System.Diagnostics;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.E2E.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Scenarios;

/// <summary>Failover, gap detection and prevention: the reconciler against a real Patroni cluster.</summary>
[Collection(RealClusterCollection.Name)]
public sealed class GapDetectionScenarios(SharedClusterFixture fixture, ITestOutputHelper output)
{
    private const long WalStep = 64 * 1024;

    [Fact]
    public Task WalContinuityEndToEnd_SwitchoverAndFailback_ReportExactGapThenFound() => fixture.RunAsync(output, "WalContinuityEndToEnd", async cluster =>
    {
        // Given a non-permanent slot on the leader, a consumer that confirmed its changes, and WAL moved past that
        var leader = await cluster.SettleAsync();
        var replica = cluster.Replica(leader);
        await cluster.MustAsync(new CreateSlot("wal_cont"));
        await cluster.MustAsync(new Write(20));
        await cluster.MustAsync(new Consume("wal_cont"));
        var confirmed = cluster.LastConfirmed("wal_cont");
        await cluster.MustAsync(new AdvanceWal(WalStep));

        // When Patroni switches over gracefully
        await cluster.MustAsync(new Switchover(leader.Name, replica.Name));
        var promoted = await cluster.SettleAsync();

        // Then the slot is gone on the new leader, and EnsureSlot re-creates it reporting the exact gap
        Assert.Equal(replica.Name, promoted.Name);
        Assert.DoesNotContain("wal_cont", await cluster.SlotNamesAsync(promoted));
        await cluster.MustAsync(new AdvanceWal(WalStep));
        await cluster.MustAsync(new Checkpoint());
        var report = await cluster.ReconcileAsync("wal_cont");
        ClusterSteps.AssertGapFrom(report, confirmed, promoted.Name);
        Assert.True(report.Unprotected, "a slot created by hand is neither permanent nor ignored");
        ClusterSteps.AssertFoundWithoutAlarm(await cluster.ReconcileAsync("wal_cont"), report.GapEnd!.Value);

        // When the consumer goes on and the cluster fails back
        await cluster.MustAsync(new Write(10));
        await cluster.MustAsync(new Consume("wal_cont"));
        var confirmedAgain = cluster.LastConfirmed("wal_cont");
        Assert.True(confirmedAgain > confirmed);
        await cluster.MustAsync(new AdvanceWal(WalStep));
        await cluster.MustAsync(new Switchover(promoted.Name, leader.Name));
        var back = await cluster.SettleAsync();

        // Then the same holds on the original leader
        Assert.Equal(leader.Name, back.Name);
        Assert.DoesNotContain("wal_cont", await cluster.SlotNamesAsync(back));
        await cluster.MustAsync(new AdvanceWal(WalStep));
        await cluster.MustAsync(new Checkpoint());
        var failback = await cluster.ReconcileAsync("wal_cont");
        ClusterSteps.AssertGapFrom(failback, confirmedAgain, back.Name);
        ClusterSteps.AssertFoundWithoutAlarm(await cluster.ReconcileAsync("wal_cont"), failback.GapEnd!.Value);
    });

    [Fact]
    public Task MultiSlotAndBootstrap_EachSlotGetsItsOwnGapAndAFreshSlotNoAlarm() => fixture.RunAsync(output, "MultiSlotAndBootstrap", async cluster =>
    {
        // Given three slots whose consumers confirmed at three different positions
        var leader = await cluster.SettleAsync();
        string[] slots = ["multi_a", "multi_b", "multi_c"];
        foreach (var slot in slots)
        {
            await cluster.MustAsync(new CreateSlot(slot));
        }
        foreach (var slot in slots)
        {
            await cluster.MustAsync(new Write(10));
            await cluster.MustAsync(new Consume(slot));
        }
        var confirmed = slots.ToDictionary(s => s, cluster.LastConfirmed);
        Assert.Equal(3, confirmed.Values.Distinct().Count());
        await cluster.MustAsync(new AdvanceWal(WalStep));

        // When the leader switches over and WAL moves on the new one
        await cluster.MustAsync(new Switchover(leader.Name, null));
        var promoted = await cluster.SettleAsync();
        Assert.NotEqual(leader.Name, promoted.Name);
        await cluster.MustAsync(new AdvanceWal(WalStep));
        await cluster.MustAsync(new Checkpoint());

        // Then every slot is re-created with a gap from its own consumer's position
        foreach (var slot in slots)
        {
            ClusterSteps.AssertGapFrom(await cluster.ReconcileAsync(slot), confirmed[slot], promoted.Name);
        }

        // And a slot no consumer has read yet is simply created: no alarm
        var fresh = await cluster.ReconcileAsync("multi_fresh");
        Assert.True(fresh.Outcome == ReconcileOutcome.Created, $"expected a fresh slot, got: {fresh}");
        Assert.Equal(0, fresh.GapBytes);
        Assert.Contains("multi_fresh", await cluster.SlotNamesAsync(promoted));
    });

    [Fact]
    public Task PermanentSlotSurvivesSwitchover_FoundNotRecreated() => fixture.RunAsync(output, "PermanentSlotSurvivesSwitchover", async cluster =>
    {
        // Given a permanent logical slot, consumed, and copied to every replica up to the consumer's position
        var leader = await cluster.SettleAsync();
        await cluster.MustAsync(new CreateSlot("perm_slot", Permanent: true));
        await cluster.MustAsync(new Write(20));
        await cluster.MustAsync(new Consume("perm_slot"));
        var confirmed = cluster.LastConfirmed("perm_slot");
        foreach (var replica in cluster.RunningMembers.Where(m => m != leader))
        {
            await cluster.WaitUntilAsync($"perm_slot copied to {replica.Name} at {confirmed}", TimeSpan.FromMinutes(1), async () =>
            {
                try
                {
                    var copy = (await cluster.ReadSlotsAsync(replica)).FirstOrDefault(s => s.Name == "perm_slot");
                    return (copy is not null && copy.ConfirmedFlush >= confirmed, copy?.ToString() ?? "no copy yet");
                }
                catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
                {
                    return (false, $"{replica.Name} does not answer SQL (Patroni restarts it to copy the slot)");
                }
            });
        }
        await cluster.SettleAsync();

        // When the leader switches over
        var candidate = cluster.Replica(leader);
        await cluster.MustAsync(new Switchover(leader.Name, candidate.Name));
        var promoted = await cluster.SettleAsync();

        // Then the slot is on the new leader and EnsureSlot finds it: not re-created, no gap
        Assert.Equal(candidate.Name, promoted.Name);
        Assert.Contains("perm_slot", await cluster.SlotNamesAsync(promoted));
        var report = await cluster.ReconcileAsync("perm_slot");
        Assert.True(report.Outcome == ReconcileOutcome.Found, $"expected the permanent slot found, got: {report}");
        Assert.False(report.Unprotected);
        Assert.Equal(0, report.GapBytes);
        Assert.True(report.SlotPosition <= confirmed, $"the copy at {report.SlotPosition} is past the consumer's {confirmed}");
        Assert.Equal((long)(confirmed.Value - report.SlotPosition!.Value.Value), report.DuplicateBytes);
    });

    [Fact]
    public Task HardLeaderKill_ReplicaPromotedAndSlotRecreatedWithGap() => fixture.RunAsync(output, "HardLeaderKill", async cluster =>
    {
        // Given a consumed slot on the leader and every replica caught up
        await cluster.SettleAsync();
        await cluster.MustAsync(new CreateSlot("kill_slot"));
        await cluster.MustAsync(new Write(20));
        await cluster.MustAsync(new Consume("kill_slot"));
        var confirmed = cluster.LastConfirmed("kill_slot");
        await cluster.MustAsync(new AdvanceWal(WalStep));
        var leader = await cluster.SettleAsync();

        // When the leader is SIGKILLed
        var watch = Stopwatch.StartNew();
        await cluster.MustAsync(new Kill(leader.Name));
        var promoted = await cluster.WaitForNewLeaderAsync(leader);
        output.WriteLine($"{promoted.Name} promoted and writable {watch.Elapsed.TotalSeconds:F1}s after SIGKILL of {leader.Name} (ttl {cluster.Config.Ttl})");

        // Then a replica is promoted, the slot is gone there, and EnsureSlot re-creates it reporting the gap
        Assert.NotEqual(leader.Name, promoted.Name);
        Assert.DoesNotContain("kill_slot", await cluster.SlotNamesAsync(promoted));
        await cluster.MustAsync(new AdvanceWal(WalStep));
        await cluster.MustAsync(new Checkpoint());
        ClusterSteps.AssertGapFrom(await cluster.ReconcileAsync("kill_slot"), confirmed, promoted.Name);
        var held = await cluster.ReadRowIdsAsync(promoted);
        Assert.All(cluster.AcknowledgedRows, id => Assert.Contains(id, held));
    });

    [Fact]
    public Task SlotDroppedWithoutFailover_RestartDropsUnprotectedSlotButKeepsIgnoredOne() => fixture.RunAsync(output, "SlotDroppedWithoutFailover", async cluster =>
    {
        // Given an unprotected consumed slot on a healthy leader
        var leader = await cluster.SettleAsync();
        await cluster.MustAsync(new CreateSlot("dropped_slot"));
        await cluster.MustAsync(new Write(10));
        await cluster.MustAsync(new Consume("dropped_slot"));
        var confirmed = cluster.LastConfirmed("dropped_slot");

        // When Patroni restarts the leader's PostgreSQL (no failover at all)
        await cluster.MustAsync(new Restart(leader.Name));
        await cluster.WaitUntilAsync("Patroni to drop the unknown slot dropped_slot", TimeSpan.FromMinutes(1), async () =>
        {
            try
            {
                var names = await cluster.SlotNamesAsync(leader);
                return (!names.Contains("dropped_slot"), $"slots on {leader.Name}: [{string.Join(", ", names)}]");
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
            {
                return (false, $"{leader.Name} does not answer SQL yet");
            }
        });

        // Then the leader is the same, the slot is gone, and EnsureSlot reports the gap and that the slot is unprotected
        Assert.Equal(leader.Name, (await cluster.SettleAsync()).Name);
        await cluster.MustAsync(new Write(10));
        await cluster.MustAsync(new AdvanceWal(WalStep));
        await cluster.MustAsync(new Checkpoint());
        var report = await cluster.ReconcileAsync("dropped_slot");
        ClusterSteps.AssertGapFrom(report, confirmed, leader.Name);
        Assert.True(report.Unprotected);

        // Given the same steps with the slot in ignore_slots
        await cluster.MustAsync(new PatchConfig(new PatroniModel.Scenarios.Configuration.ConfigPatch { IgnoreSlots = ["ignored_slot"] }));
        await cluster.MustAsync(new CreateSlot("ignored_slot"));
        await cluster.MustAsync(new Write(10));
        await cluster.MustAsync(new Consume("ignored_slot"));
        var ignoredConfirmed = cluster.LastConfirmed("ignored_slot");

        // When Patroni restarts the leader's PostgreSQL again and runs a few HA loops
        await cluster.MustAsync(new Restart(leader.Name));
        await cluster.SettleAsync();
        await cluster.MustAsync(new Wait(cluster.Config.LoopWait * 3));

        // Then the ignored slot is still there and EnsureSlot finds it at the consumer's position
        Assert.DoesNotContain("dropped_slot", await cluster.SlotNamesAsync(leader));
        var kept = await cluster.ReconcileAsync("ignored_slot");
        ClusterSteps.AssertFoundWithoutAlarm(kept, ignoredConfirmed);
        Assert.False(kept.Unprotected);
    });
}
