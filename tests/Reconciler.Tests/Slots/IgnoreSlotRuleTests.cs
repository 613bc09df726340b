using System.Text.Json;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Slots;

/// <summary>
/// Patroni's <c>ignore_slots</c> matching (patroni/postgresql/slots.py, <c>ignore_replication_slot</c>): a rule matches
/// when every field it sets matches: name, type, database, plugin; an empty type, database or plugin is unset.
/// </summary>
public sealed class IgnoreSlotRuleTests
{
    /// <summary>The consumer's slot: logical, database <c>postgres</c>, plugin <c>test_decoding</c>.</summary>
    [Theory]
    [InlineData("""{"name": "cdc"}""", true)]
    [InlineData("""{"name": "cdc", "type": "logical", "database": "postgres", "plugin": "test_decoding"}""", true)]
    [InlineData("""{"type": "logical"}""", true)]
    [InlineData("""{"database": "postgres"}""", true)]
    [InlineData("""{"plugin": "test_decoding"}""", true)]
    [InlineData("""{}""", true)]
    [InlineData("""{"name": "other"}""", false)]
    [InlineData("""{"name": "CDC"}""", false)]
    [InlineData("""{"name": "cdc", "type": "physical"}""", false)]
    [InlineData("""{"name": "cdc", "database": "orders"}""", false)]
    [InlineData("""{"name": "cdc", "plugin": "pgoutput"}""", false)]
    [InlineData("""{"name": "cdc", "database": "postgres", "plugin": "pgoutput"}""", false)]
    [InlineData("""{"name": "cdc", "type": "logical", "database": "postgres", "plugin": "wal2json"}""", false)]
    [InlineData("""{"name": "cdc", "database": ""}""", true)]
    [InlineData("""{"name": "cdc", "plugin": "", "type": ""}""", true)]
    [InlineData("""{"name": "cdc", "database": null}""", true)]
    [InlineData("""{"name": "cdc", "database": false}""", true)]
    [InlineData("""{"name": "cdc", "database": 0}""", true)]
    [InlineData("""{"name": "cdc", "database": []}""", true)]
    [InlineData("""{"name": "cdc", "database": 5}""", false)]
    [InlineData("""{"name": "cdc", "plugin": ["test_decoding"]}""", false)]
    [InlineData("""{"name": ""}""", false)]
    [InlineData("""{"name": null}""", true)]
    [InlineData("""{"name": 0}""", false)]
    public void ProtectionOf_AnIgnoreSlotsRule_MatchesWhenEveryFieldItSetsMatches(string rule, bool ignored)
    {
        // Given Patroni's GET /config with one ignore_slots rule
        using var json = JsonDocument.Parse($$"""{"ignore_slots": [{{rule}}]}""");
        var config = PatroniRestEndpoint.ParseSlotConfig(json.RootElement);

        // When / Then
        Assert.Equal(ignored ? SlotProtection.Ignored : SlotProtection.Unprotected,
            SlotReconciler.ProtectionOf("cdc", config, "postgres", "test_decoding"));
    }

    [Fact]
    public void ProtectionOf_WhenAnyOfSeveralRulesMatches_IsIgnored()
    {
        var config = new PatroniSlotConfig([], [new IgnoreSlotRule("a"), new IgnoreSlotRule(Plugin: "pgoutput"), new IgnoreSlotRule(Database: "orders")]);
        Assert.Equal(SlotProtection.Ignored, SlotReconciler.ProtectionOf("cdc", config, "orders", "test_decoding"));
        Assert.Equal(SlotProtection.Ignored, SlotReconciler.ProtectionOf("cdc", config, "postgres", "pgoutput"));
        Assert.Equal(SlotProtection.Unprotected, SlotReconciler.ProtectionOf("cdc", config, "postgres", "test_decoding"));
    }

    [Theory]
    [InlineData(null, null, null, null, true)]
    [InlineData("cdc", "logical", "postgres", "test_decoding", true)]
    [InlineData("cdx", null, null, null, false)]
    [InlineData(null, "physical", null, null, false)]
    [InlineData(null, null, "orders", null, false)]
    [InlineData(null, null, null, "pgoutput", false)]
    [InlineData(null, "", "", "", true)]
    public void Matches_ComparesEachSetFieldWithTheSlotsOwn(string? name, string? type, string? database, string? plugin, bool matches) =>
        Assert.Equal(matches, new IgnoreSlotRule(name, type, database, plugin).Matches("cdc", "logical", "postgres", "test_decoding"));

    [Fact]
    public void ProtectionOf_APermanentSlot_IsPermanentEvenWhenAlsoIgnored()
    {
        var config = new PatroniSlotConfig(["cdc"], [new IgnoreSlotRule("cdc")]);
        Assert.Equal(SlotProtection.Permanent, SlotReconciler.ProtectionOf("cdc", config));
    }
}
