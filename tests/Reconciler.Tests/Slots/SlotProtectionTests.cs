using NpgsqlTypes;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Slots;

/// <summary>How a report speaks of Patroni's protection and of PostgreSQL 17 failover slots (no PostgreSQL needed).</summary>
public sealed class SlotProtectionTests
{
    private static readonly PatroniSlotConfig Config = new(["perm"], [new IgnoreSlotRule(Name: "ign")]);
    private static readonly NpgsqlLogSequenceNumber At = new(0x3000060);

    [Theory]
    [InlineData("perm", SlotProtection.Permanent)]
    [InlineData("ign", SlotProtection.Ignored)]
    [InlineData("cdc", SlotProtection.Unprotected)]
    public void ProtectionOf_FollowsPatronisConfiguration(string slot, SlotProtection expected) =>
        Assert.Equal(expected, SlotReconciler.ProtectionOf(slot, Config));

    [Theory]
    [InlineData(SlotProtection.Ignored, "failover slot: standbys running sync_replication_slots keep synced copies")]
    [InlineData(SlotProtection.Unprotected, "failover slot, but Patroni (4.0 and older) drops it as unknown: add it to ignore_slots so standbys' synced copies survive")]
    public void FailoverSlotReport_SaysWhetherItsSyncedCopiesCanSurvivePatroni(SlotProtection protection, string note)
    {
        // Given a PostgreSQL 17 failover slot found at the consumer's position
        var report = new SlotReport
        {
            Slot = "cdc", Outcome = SlotOutcome.Found, Leader = "pg2", Timeline = 2, LeaderLsn = At,
            LastConfirmed = new ConfirmedPosition(At), SlotPosition = At, Protection = protection, FailoverSlot = true,
        };

        // Then the line carries the one note that applies, the JSON the flag, and it is no alarm
        Assert.Equal($"slot cdc on pg2 (timeline 2): found at 0/3000060, no alarm; {note}", report.ToLogLine());
        Assert.Contains("\"failover_slot\":true", report.ToJson(), StringComparison.Ordinal);
        Assert.False(report.IsAlarm);
    }
}
