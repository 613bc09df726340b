using System.Diagnostics;
using System.Globalization;
using PatroniModel.RealCluster.Clusters;
using PatroniModel.Reconciler.Audit;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.E2E.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Scenarios;

/// <summary>
/// The operator's audit on the real 3-member cluster: each hazard it flags is followed by the failure it predicted, and a
/// slot it calls safe survives the same failover (issue 14: proof, on real Patroni).
/// </summary>
[Collection(RealClusterCollection.Name)]
public sealed class AuditScenarios(SharedClusterFixture fixture, ITestOutputHelper output)
{
    private const long WalStep = 64 * 1024;

    [Fact]
    public Task Audit_FlagsUnprotectedAndIgnoredSlots_ThenASwitchoverLosesBoth() => fixture.RunAsync(output, "AuditUnprotectedAndIgnored", async cluster =>
    {
        var leader = await cluster.SettleAsync();
        await cluster.MustAsync(new CreateSlot("aud_unprot"));
        await cluster.MustAsync(new CreateSlot("aud_ign"));
        await cluster.MustAsync(new PatchConfig(new ConfigPatch { IgnoreSlots = ["aud_ign"] }));
        await cluster.MustAsync(new Write(5));
        await cluster.MustAsync(new Consume("aud_unprot"));
        await cluster.MustAsync(new Consume("aud_ign"));
        await cluster.MustAsync(new AdvanceWal(WalStep));

        var audit = await AuditAsync(cluster);
        var unprotected = OnLeader(audit, "aud_unprot", leader);
        Assert.Equal(SlotGuard.None, unprotected.Protection);
        Assert.Equal([HazardKind.Unprotected], unprotected.Hazards.Select(h => h.Kind));
        Assert.Equal(2, unprotected.FailoverCandidates);
        var ignored = OnLeader(audit, "aud_ign", leader);
        Assert.Equal(SlotGuard.IgnoreSlots, ignored.Protection);
        Assert.Equal([HazardKind.IgnoredNotCopied], ignored.Hazards.Select(h => h.Kind));
        Assert.Equal(0, ignored.ReadyCopies);

        // The predicted loss: after a switchover neither slot is on the new leader; EnsureSlot reports each gap.
        var candidate = cluster.Replica(leader);
        await cluster.MustAsync(new Switchover(leader.Name, candidate.Name));
        var promoted = await cluster.SettleAsync();
        await cluster.MustAsync(new AdvanceWal(WalStep));
        await cluster.MustAsync(new Checkpoint());
        foreach (var slot in (string[])["aud_unprot", "aud_ign"])
        {
            var confirmed = cluster.LastConfirmed(slot);
            var report = await cluster.ReconcileAsync(slot);
            ClusterSteps.AssertGapFrom(report, confirmed, promoted.Name);
        }
    });

    [Fact]
    public Task Audit_FlagsAPermanentSlotWithoutReadyCopy_ThenAKillLosesIt() => fixture.RunAsync(output, "AuditPermanentNotReady", async cluster =>
    {
        // As corpus 05: a permanent slot declared just before the leader dies has no ready copy yet (Patroni copies it ~4 s later).
        var leader = await cluster.SettleAsync();
        await cluster.MustAsync(new CreateSlot("aud_notready", Permanent: true));
        await cluster.MustAsync(new Write(3));
        await cluster.MustAsync(new Consume("aud_notready"));
        await cluster.MustAsync(new AdvanceWal(WalStep));
        var audit = await AuditAsync(cluster);
        var record = OnLeader(audit, "aud_notready", leader);
        Assert.Equal(SlotGuard.Permanent, record.Protection);
        Assert.Contains(record.Hazards, h => h.Kind == HazardKind.NoReadyCopy);
        Assert.True(record.ReadyCopies < record.FailoverCandidates, $"{record.ReadyCopies} ready of {record.FailoverCandidates}");
        var confirmed = cluster.LastConfirmed("aud_notready");

        await cluster.MustAsync(new Kill(leader.Name));
        var promoted = await cluster.WaitForNewLeaderAsync(leader);
        await cluster.SettleAsync();
        await cluster.MustAsync(new Wait(3));
        var report = await cluster.ReconcileAsync("aud_notready");
        output.WriteLine($"after the kill, on {promoted.Name}: {report}");
        Assert.True(report.Outcome is ReconcileOutcome.FoundAhead or ReconcileOutcome.RecreatedWithGap, $"expected the predicted gap, got {report}");
        Assert.Equal(confirmed, report.GapStart);
        Assert.True(report.GapBytes > 0);
    });

    [Fact]
    public Task Audit_CallsAPermanentSlotWithReadyCopiesSafe_AndItSurvivesASwitchover() => fixture.RunAsync(output, "AuditPermanentReadySafe", async cluster =>
    {
        var leader = await cluster.SettleAsync();
        await cluster.MustAsync(new CreateSlot("aud_ready", Permanent: true));
        await cluster.MustAsync(new Write(10));
        await cluster.MustAsync(new Consume("aud_ready"));
        var confirmed = cluster.LastConfirmed("aud_ready");
        SlotAudit? record = null;
        await cluster.WaitUntilAsync("audit to call aud_ready safe (a ready copy on every candidate)", TimeSpan.FromMinutes(1), async () =>
        {
            record = OnLeader(await AuditAsync(cluster), "aud_ready", leader);
            return (record.Hazards.Count == 0, $"{record.ReadyCopies}/{record.FailoverCandidates} ready; {string.Join("; ", record.Hazards.Select(h => h.Message))}");
        });
        Assert.Equal(2, record!.ReadyCopies);
        Assert.Equal("safe", record.Verdict);
        await cluster.SettleAsync();

        var candidate = cluster.Replica(leader);
        await cluster.MustAsync(new Switchover(leader.Name, candidate.Name));
        await cluster.SettleAsync();
        var report = await cluster.ReconcileAsync("aud_ready");
        Assert.True(report.Outcome == ReconcileOutcome.Found, $"expected the slot audit called safe to be found, got {report}");
        Assert.Equal(0, report.GapBytes);
        Assert.True(report.SlotPosition <= confirmed);
    });

    [Fact]
    public Task Audit_Benchmark_ThreeMembersTenSlots_EightLogicalAndTwoPhysical() => fixture.RunAsync(output, "AuditBenchmark", async cluster =>
    {
        await cluster.SettleAsync();
        // In ignore_slots, so a member rejoining after the previous scenario's kill (a slot reload on the leader) can't drop them.
        string[] slots = [.. Enumerable.Range(0, 8).Select(i => $"aud_bench_{i}")];
        await cluster.MustAsync(new PatchConfig(new ConfigPatch { IgnoreSlots = [.. slots] }));
        foreach (var slot in slots)
        {
            await cluster.MustAsync(new CreateSlot(slot));
        }
        await AuditAsync(cluster);
        var times = new List<double>();
        AuditReport? last = null;
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            last = await AuditAsync(cluster);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Assert.Equal(8, last!.Slots.Count(s => s.Slot?.StartsWith("aud_bench_", StringComparison.Ordinal) == true));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"audit benchmark: 3 members, 10 slots on the leader (8 logical + 2 Patroni physical): {last.Slots.Count} records, median {times[2]:0} ms, max {times[^1]:0} ms over 5 audits"));
    });

    private static async Task<AuditReport> AuditAsync(PatroniCluster cluster)
    {
        using var endpoint = cluster.CreateEndpoint();
        using var auditor = new ClusterAuditor(endpoint.Options);
        return await auditor.AuditAsync();
    }

    private static SlotAudit OnLeader(AuditReport audit, string slot, ClusterMember leader) =>
        audit.Slots.SingleOrDefault(s => s.Slot == slot && s.Member == leader.Name)
        ?? throw new Xunit.Sdk.XunitException($"no audit record for {slot} on {leader.Name}: {string.Join(" | ", audit.Slots.Select(s => s.ToJson()))}");
}
