using PatroniModel.RealCluster.Configuration;
using PatroniModel.Scenarios.Configuration;
using Xunit;

namespace PatroniModel.Tests.RealClusterTests.Configuration;

/// <summary>The member configuration the real cluster renders (no Docker needed).</summary>
public sealed class PatroniYamlTests
{
    [Fact]
    public void Render_WithDefaultDcs_UsesTheEtcdV2SectionAndTheClusterTimings()
    {
        // Given the default flavor with the shared cluster's timings
        var config = ClusterConfig.Default with { Ttl = 6, LoopWait = 1, RetryTimeout = 2 };

        // When a member's configuration is rendered
        var yaml = PatroniYaml.Render(config, "pmtest", "pg2", "secret");

        // Then it names the member, talks to etcd through the v2 section, and carries the dynamic timings
        Assert.Contains("\nname: pg2\n", yaml, StringComparison.Ordinal);
        Assert.Contains("\netcd:\n  hosts: etcd1:2379\n", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("etcd3:", yaml, StringComparison.Ordinal);
        Assert.Contains("    ttl: 6\n    loop_wait: 1\n    retry_timeout: 2\n", yaml, StringComparison.Ordinal);
        Assert.Contains("  connect_address: pg2:5432\n", yaml, StringComparison.Ordinal);
        Assert.Contains("wal_level: logical", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WithEtcd3AndSlots_UsesTheEtcd3SectionPermanentAndIgnoredSlots()
    {
        // Given the etcd3 flavor with a permanent and an ignored slot
        var config = ClusterConfig.Default with { Dcs = DcsFlavor.Etcd3, PermanentSlots = ["cdc"], IgnoreSlots = ["manual"] };

        // When a member's configuration is rendered
        var yaml = PatroniYaml.Render(config, "pmtest", "pg1", "secret");

        // Then Patroni gets the etcd3 section, the slot as a logical test_decoding slot on postgres, and the ignore rule
        Assert.Contains("\netcd3:\n  hosts: etcd1:2379\n", yaml, StringComparison.Ordinal);
        Assert.Contains("    permanent_slots:\n      cdc:\n        type: logical\n        database: postgres\n        plugin: test_decoding\n", yaml, StringComparison.Ordinal);
        Assert.Contains("    ignore_slots:\n      - name: manual\n", yaml, StringComparison.Ordinal);
    }
}
