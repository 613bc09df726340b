using PatroniModel.RealCluster.Configuration;
using PatroniModel.RealCluster.Docker;
using PatroniModel.Scenarios.Configuration;
using Xunit;

namespace PatroniModel.Tests.RealClusterTests.Configuration;

/// <summary>The environment a Spilo member gets (no Docker needed).</summary>
public sealed class SpiloEnvironmentTests
{
    [Fact]
    public void Render_WithTheSharedTimings_CarriesTheClusterInSpiloConfiguration()
    {
        // Given the shared cluster's timings, a permanent and an ignored slot
        var config = ClusterConfig.Default with { Ttl = 6, LoopWait = 1, RetryTimeout = 2, PermanentSlots = ["cdc"], IgnoreSlots = ["manual"] };

        // When a Spilo member's environment is rendered
        var env = SpiloEnvironment.Render(config, "pmtest", "secret").ToDictionary(e => e[..e.IndexOf('=')], e => e[(e.IndexOf('=') + 1)..]);

        // Then Spilo finds the scope, etcd's v2 API, the credentials, and no cloud probe
        Assert.Equal("pmtest", env["SCOPE"]);
        Assert.Equal("etcd1:2379", env["ETCD_HOST"]);
        Assert.False(env.ContainsKey("ETCD3_HOST"));
        Assert.Equal(("postgres", "secret", "replicator", "secret"), (env["PGUSER_SUPERUSER"], env["PGPASSWORD_SUPERUSER"], env["PGUSER_STANDBY"], env["PGPASSWORD_STANDBY"]));
        Assert.Equal("local", env["SPILO_PROVIDER"]);

        // And SPILO_CONFIGURATION overrides Spilo's defaults that matter here: the timings, the slots, logical decoding, memory
        var spilo = env["SPILO_CONFIGURATION"];
        Assert.StartsWith("bootstrap:\n  dcs:\n    ttl: 6\n    loop_wait: 1\n    retry_timeout: 2\n", spilo, StringComparison.Ordinal);
        Assert.Contains("    permanent_slots:\n      cdc:\n        type: logical\n", spilo, StringComparison.Ordinal);
        Assert.Contains("    ignore_slots:\n      - name: manual\n", spilo, StringComparison.Ordinal);
        Assert.Contains("      parameters:\n        wal_level: logical\n", spilo, StringComparison.Ordinal);
        Assert.Contains("        max_connections: 100\n", spilo, StringComparison.Ordinal);
        Assert.EndsWith("postgresql:\n  parameters:\n    shared_buffers: 128MB\n", spilo, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WithEtcd3_NamesEtcdThroughEtcd3Host()
    {
        // Given the etcd3 flavor
        var config = ClusterConfig.Default with { Dcs = DcsFlavor.Etcd3 };

        // When a Spilo member's environment is rendered
        var env = SpiloEnvironment.Render(config, "pmtest", "secret");

        // Then Spilo is pointed at etcd's v3 API
        Assert.Contains("ETCD3_HOST=etcd1:2379", env);
        Assert.DoesNotContain(env, e => e.StartsWith("ETCD_HOST=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ghcr.io/zalando/spilo-15:3.0-p1", "ghcr.io/zalando/spilo-15", "3.0-p1")]
    [InlineData("localhost:5000/spilo", "localhost:5000/spilo", "latest")]
    [InlineData("spilo", "spilo", "latest")]
    [InlineData("registry.example/spilo@sha256:0123", "registry.example/spilo@sha256:0123", null)]
    public void SplitReference_PullsOneTag(string image, string repository, string? tag)
    {
        // When an image reference is split for the pull
        var split = DockerEngine.SplitReference(image);

        // Then the registry's port is not taken for a tag, and an untagged name pulls latest, not every tag
        Assert.Equal((repository, tag), split);
    }
}
