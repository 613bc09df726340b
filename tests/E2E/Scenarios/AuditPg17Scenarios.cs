using PatroniModel.RealCluster.Clusters;
using PatroniModel.Reconciler.Audit;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Scenarios;

/// <summary>
/// The audit on PostgreSQL 17 (Patroni 4.0.7, slotsync): an ignored failover slot synced to every standby is called safe
/// and survives a switchover; the switchover leaves the ex-primary's same-name slot with <c>synced = false</c>, which
/// the audit flags, and when that member leads again the slot is stale as predicted: found behind (duplicates, corpus 22).
/// </summary>
public sealed class AuditPg17Scenarios(ITestOutputHelper output)
{
    [Fact]
    public async Task Audit_CallsASyncedFailoverSlotSafe_ThenFlagsTheStaleExPrimarySlot_AndFailbackFindsItBehind()
    {
        var config = ClusterConfig.Default with { Members = 3, Ttl = 6, LoopWait = 1, RetryTimeout = 2, PostgresMajor = 17, IgnoreSlots = ["aud17"] };
        await using var cluster = await PatroniClusterBuilder.From(config).WithLog(Write).BuildAsync();
        cluster.Log = Write;
        var leader = await cluster.SettleAsync();
        await cluster.MustAsync(new CreateSlot("aud17"));
        await cluster.MustAsync(new Write(2));
        await cluster.MustAsync(new Checkpoint());
        await cluster.MustAsync(new Consume("aud17"));

        SlotAudit? record = null;
        await cluster.WaitUntilAsync("audit to call the failover slot aud17 safe (synced and persistent on both standbys)", TimeSpan.FromSeconds(90), async () =>
        {
            record = OnMember(await AuditAsync(cluster), "aud17", leader.Name);
            return (record.Hazards.Count == 0 && record.ReadyCopies == 2, $"{record.ToJson()}");
        });
        Assert.Equal(SlotGuard.FailoverSlot, record!.Protection);
        Assert.True(record.Failover);

        var candidate = cluster.Replica(leader);
        await cluster.MustAsync(new Switchover(leader.Name, candidate.Name));
        var promoted = await cluster.SettleAsync();
        var found = await cluster.ReconcileAsync("aud17");
        Assert.True(found.Outcome == ReconcileOutcome.Found && found.GapBytes == 0, $"the slot audit called safe should be found, got {found}");

        // The ex-primary keeps its own slot, synced = false: flagged.
        AuditReport? after = null;
        await cluster.WaitUntilAsync($"audit to flag the stale aud17 on {leader.Name}", TimeSpan.FromSeconds(60), async () =>
        {
            after = await AuditAsync(cluster);
            var onExPrimary = after.Slots.FirstOrDefault(s => s.Slot == "aud17" && s.Member == leader.Name);
            return (onExPrimary?.Hazards.Any(h => h.Kind == HazardKind.StaleStandbySlot) == true, onExPrimary?.ToJson() ?? "no aud17 on the ex-primary");
        });

        // The predicted staleness: the consumer moves on, the cluster fails back, and the slot is where the switchover left it.
        await cluster.MustAsync(new Write(4));
        await cluster.MustAsync(new Checkpoint());
        await cluster.MustAsync(new Consume("aud17"));
        await cluster.MustAsync(new Wait(5));
        await cluster.MustAsync(new Switchover(promoted.Name, leader.Name));
        await cluster.SettleAsync();
        var back = await cluster.ReconcileAsync("aud17");
        output.WriteLine($"after failback to {leader.Name}: {back}");
        Assert.True(back.Outcome == ReconcileOutcome.Found && back.DuplicateBytes > 0, $"expected the stale slot found behind (duplicates), got {back}");
    }

    private void Write(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static async Task<AuditReport> AuditAsync(PatroniCluster cluster)
    {
        using var endpoint = cluster.CreateEndpoint();
        using var auditor = new ClusterAuditor(endpoint.Options);
        return await auditor.AuditAsync();
    }

    private static SlotAudit OnMember(AuditReport audit, string slot, string member) =>
        audit.Slots.SingleOrDefault(s => s.Slot == slot && s.Member == member)
        ?? throw new Xunit.Sdk.XunitException($"no audit record for {slot} on {member}: {string.Join(" | ", audit.Slots.Select(s => s.ToJson()))}");
}
