using PatroniModel.RealCluster.Clusters;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;
using Xunit;

namespace PatroniModel.Tests.E2E.Scenarios;

/// <summary>Steps the scenarios need to succeed, and the reconciler assertions they share.</summary>
internal static class ClusterSteps
{
    /// <summary>Applies <paramref name="step"/> and fails the test with the step's history line unless it went <see cref="StepStatus.Ok"/>.</summary>
    public static async Task<StepResult> MustAsync(this PatroniCluster cluster, Step step)
    {
        var result = await cluster.ApplyAsync(step);
        Assert.True(result.Status == StepStatus.Ok, $"step did not go through: {result}");
        return result;
    }

    /// <summary>Runs the product's EnsureSlot through a <c>reconcile</c> step and returns its report.</summary>
    public static async Task<ReconcileObservation> ReconcileAsync(this PatroniCluster cluster, string slot)
    {
        var result = await cluster.MustAsync(new Reconcile(slot));
        return result.Reconcile ?? throw new InvalidOperationException($"reconcile {slot} gave no report: {result}");
    }

    /// <summary>The consumer's last confirmed LSN on <paramref name="slot"/>.</summary>
    public static Lsn LastConfirmed(this PatroniCluster cluster, string slot) =>
        cluster.Consumers.TryGetValue(slot, out var position) ? position.LastConfirmed : throw new InvalidOperationException($"no consumer position for {slot}");

    /// <summary>Waits until a member other than <paramref name="old"/> is leader and writable.</summary>
    public static async Task<ClusterMember> WaitForNewLeaderAsync(this PatroniCluster cluster, ClusterMember old)
    {
        ClusterMember? promoted = null;
        await cluster.WaitUntilAsync($"a writable leader other than {old.Name}", TimeSpan.FromMinutes(2), async () =>
        {
            promoted = await cluster.FindWritableLeaderAsync();
            if (promoted is not null && promoted != old)
            {
                return (true, $"{promoted.Name} promoted");
            }
            var view = await cluster.GetClusterViewAsync();
            return (false, view?.ToString() ?? "no running member answered /cluster");
        });
        return promoted!;
    }

    /// <summary>A running member that is not <paramref name="leader"/>.</summary>
    public static ClusterMember Replica(this PatroniCluster cluster, ClusterMember leader) =>
        cluster.RunningMembers.First(m => m != leader);

    /// <summary>The logical slots on <paramref name="member"/>, by name.</summary>
    public static async Task<IReadOnlyList<string>> SlotNamesAsync(this PatroniCluster cluster, ClusterMember member) =>
        [.. (await cluster.ReadSlotsAsync(member)).Select(s => s.Name)];

    /// <summary>
    /// The seed's gap assertion: the slot was re-created with start = the consumer's last confirmed LSN, end past it,
    /// bytes = end - start.
    /// </summary>
    public static void AssertGapFrom(ReconcileObservation report, Lsn lastConfirmed, string leader)
    {
        Assert.True(report.Outcome == ReconcileOutcome.RecreatedWithGap, $"expected a re-created slot with a gap, got: {report}");
        Assert.Equal(leader, report.Leader);
        Assert.Equal(lastConfirmed, report.GapStart);
        Assert.NotNull(report.GapEnd);
        Assert.True(report.GapEnd!.Value > lastConfirmed, $"gap end {report.GapEnd} is not past the last confirmed {lastConfirmed}");
        Assert.Equal((long)(report.GapEnd.Value.Value - lastConfirmed.Value), report.GapBytes);
        Assert.Equal(report.GapEnd, report.SlotPosition);
    }

    /// <summary>The re-ensure assertion: the slot is found at the consumer's position, no alarm.</summary>
    public static void AssertFoundWithoutAlarm(ReconcileObservation report, Lsn lastConfirmed)
    {
        Assert.True(report.Outcome == ReconcileOutcome.Found, $"expected the slot found, got: {report}");
        Assert.Equal(0, report.DuplicateBytes);
        Assert.Equal(0, report.GapBytes);
        Assert.Equal(lastConfirmed, report.SlotPosition);
    }
}
