using System.Text.Json.Nodes;
using PatroniModel.RealCluster.Configuration;
using PatroniModel.Scenarios.Configuration;
using Xunit;

namespace PatroniModel.Tests.RealClusterTests.Configuration;

/// <summary>The body of <c>PATCH /config</c> the real cluster sends for a patch (no Docker needed).</summary>
public sealed class PatroniConfigPatchTests
{
    [Fact]
    public void Body_OfTimingsAndLag_CarriesThemUnderPatronisNames()
    {
        // Given a patch of every scalar setting
        var patch = new ConfigPatch { Ttl = 6, LoopWait = 1, RetryTimeout = 2, MaximumLagOnFailover = 65_536 };

        // When its body is built
        var body = PatroniConfigPatch.Body(ClusterConfig.Default, patch);

        // Then each setting is there under its dynamic-configuration name, and nothing else
        Assert.Equal(6, (int)body["ttl"]!);
        Assert.Equal(1, (int)body["loop_wait"]!);
        Assert.Equal(2, (int)body["retry_timeout"]!);
        Assert.Equal(65_536L, (long)body["maximum_lag_on_failover"]!);
        Assert.Equal(4, body.Count);
    }

    [Theory]
    [InlineData(SynchronousMode.Off, false, false)]
    [InlineData(SynchronousMode.On, true, false)]
    [InlineData(SynchronousMode.Strict, true, true)]
    public void Body_OfASynchronousMode_SetsPatronisTwoSwitches(SynchronousMode mode, bool synchronous, bool strict)
    {
        // Given a patch of the synchronous mode
        var patch = new ConfigPatch { SynchronousMode = mode };

        // When its body is built
        var body = PatroniConfigPatch.Body(ClusterConfig.Default, patch);

        // Then synchronous_mode and synchronous_mode_strict say it
        Assert.Equal(synchronous, (bool)body["synchronous_mode"]!);
        Assert.Equal(strict, (bool)body["synchronous_mode_strict"]!);
        Assert.Equal(2, body.Count);
    }

    [Fact]
    public void Body_OfPermanentSlots_DeclaresLogicalSlotsAndNullsTheRemovedOnes()
    {
        // Given a cluster with permanent slots s1 and s2, patched to s2 and s3
        var current = ClusterConfig.Default with { PermanentSlots = ["s1", "s2"] };
        var patch = new ConfigPatch { PermanentSlots = ["s2", "s3"] };

        // When its body is built
        var body = PatroniConfigPatch.Body(current, patch);

        // Then s1 is set to null (Patroni's merge removes it) and s2, s3 are logical test_decoding slots on postgres
        var slots = (JsonObject)body["permanent_slots"]!;
        Assert.True(slots.ContainsKey("s1"));
        Assert.Null(slots["s1"]);
        foreach (var name in new[] { "s2", "s3" })
        {
            var slot = (JsonObject)slots[name]!;
            Assert.Equal("logical", (string)slot["type"]!);
            Assert.Equal(SlotDefaults.Database, (string)slot["database"]!);
            Assert.Equal(SlotDefaults.Plugin, (string)slot["plugin"]!);
        }
        Assert.Equal(3, slots.Count);
    }

    [Fact]
    public void Body_OfIgnoreSlots_ListsThemByName()
    {
        // Given a patch that ignores s3
        var patch = new ConfigPatch { IgnoreSlots = ["s3"] };

        // When its body is built
        var body = PatroniConfigPatch.Body(ClusterConfig.Default, patch);

        // Then ignore_slots is [{"name": "s3"}]
        Assert.Equal("""[{"name":"s3"}]""", body["ignore_slots"]!.ToJsonString());
        Assert.Single(body);
    }

    [Fact]
    public void Body_OfEveryPatchField_HasAnEntry()
    {
        // Given a patch that sets every field the sequence files know
        var patch = new ConfigPatch
        {
            PermanentSlots = ["s1"], IgnoreSlots = ["s3"], Ttl = 10, LoopWait = 2, RetryTimeout = 4,
            MaximumLagOnFailover = 1_048_576, SynchronousMode = SynchronousMode.On,
        };

        // When its body is built
        var body = PatroniConfigPatch.Body(ClusterConfig.Default, patch);

        // Then every patch field is in it (synchronous_mode with its strict switch)
        Assert.All(ConfigPatchFields.Names, name => Assert.True(body.ContainsKey(name), name));
        Assert.True(body.ContainsKey("synchronous_mode_strict"));
    }
}
