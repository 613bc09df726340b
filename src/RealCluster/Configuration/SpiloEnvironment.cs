using System.Text;
using PatroniModel.Scenarios.Configuration;

namespace PatroniModel.RealCluster.Configuration;

/// <summary>
/// The environment a Spilo member container gets (zalando/spilo's ENVIRONMENT.rst and configure_spilo.py): Spilo writes
/// Patroni's configuration itself from these variables, names the member after the container's hostname and
/// advertises the container's address. What the cluster's <see cref="ClusterConfig"/> decides goes in
/// <c>SPILO_CONFIGURATION</c>, which Spilo merges over its own defaults with our values winning: the dynamic
/// configuration (ttl, loop_wait, retry_timeout, slots, <c>wal_level: logical</c>; Spilo's defaults are ttl 30,
/// loop_wait 10 and <c>wal_level: hot_standby</c>) and a fixed <c>shared_buffers</c> (Spilo takes a quarter of the machine's memory per member).
/// </summary>
public static class SpiloEnvironment
{
    /// <summary>The socket directory of a Spilo member (PostgreSQL's default; Spilo does not set one).</summary>
    public const string SocketDirectory = "/var/run/postgresql";

    /// <summary>The environment variables (<c>NAME=value</c>) of one Spilo member of the cluster <paramref name="scope"/>.</summary>
    public static IList<string> Render(ClusterConfig config, string scope, string password)
    {
        var spiloConfiguration = new StringBuilder();
        spiloConfiguration.Append("bootstrap:\n");
        PatroniYaml.AppendDynamicConfiguration(spiloConfiguration, config, "max_connections: 100");
        spiloConfiguration.Append("postgresql:\n");
        spiloConfiguration.Append("  parameters:\n");
        spiloConfiguration.Append("    shared_buffers: 128MB\n");
        return
        [
            $"SCOPE={scope}",
            $"{(config.Dcs == DcsFlavor.Etcd3 ? "ETCD3_HOST" : "ETCD_HOST")}={PatroniYaml.EtcdHost}:2379",
            "PGUSER_SUPERUSER=postgres",
            $"PGPASSWORD_SUPERUSER={password}",
            "PGUSER_STANDBY=replicator",
            $"PGPASSWORD_STANDBY={password}",
            "ALLOW_NOSSL=true",
            // Without it Spilo probes 169.254.169.254 to learn whether it runs on AWS, Google or OpenStack.
            "SPILO_PROVIDER=local",
            $"SPILO_CONFIGURATION={spiloConfiguration}",
        ];
    }
}
