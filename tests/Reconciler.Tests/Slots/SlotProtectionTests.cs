using NpgsqlTypes;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Slots;

/// <summary>Which protection a slot gets (no PostgreSQL needed): Patroni's configuration, then PostgreSQL 17's failover flag.</summary>
public sealed class SlotProtectionTests
{
    private static readonly PatroniSlotConfig Config = new(["perm"], [new IgnoreSlotRule(Name: "ign")]);

    [Theory]
    [InlineData("perm", false, SlotProtection.Permanent)]
    [InlineData("perm", true, SlotProtection.Permanent)]
    [InlineData("cdc", true, SlotProtection.Failover)]
    [InlineData("ign", true, SlotProtection.Failover)]
    [InlineData("ign", false, SlotProtection.Ignored)]
    [InlineData("cdc", false, SlotProtection.Unprotected)]
    public void ProtectionOf_PermanentFirstThenFailoverThenIgnoreSlots(string slot, bool failover, SlotProtection expected) =>
        Assert.Equal(expected, SlotReconciler.ProtectionOf(slot, Config, failover: failover));

    [Fact]
    public void FailoverSlotReport_SaysTheStandbysKeepItAndIsNotUnprotected()
    {
        // Given a PostgreSQL 17 failover slot found at the consumer's position
        var at = new NpgsqlLogSequenceNumber(0x3000060);
        var report = new SlotReport
        {
            Slot = "cdc", Outcome = SlotOutcome.Found, Leader = "pg2", Timeline = 2, LeaderLsn = at,
            LastConfirmed = new ConfirmedPosition(at), SlotPosition = at, Protection = SlotProtection.Failover,
        };

        // Then the line says so, the JSON names the protection, and it is no alarm
        Assert.Equal("slot cdc on pg2 (timeline 2): found at 0/3000060, no alarm; failover slot: standbys running sync_replication_slots keep synced copies", report.ToLogLine());
        Assert.Contains("\"protection\":\"Failover\"", report.ToJson(), StringComparison.Ordinal);
        Assert.False(report.IsAlarm);
    }
}
