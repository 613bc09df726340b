using System.Globalization;
using System.Text;
using PatroniModel.Scenarios.Configuration;

namespace PatroniModel.RealCluster.Configuration;

/// <summary>
/// Renders one member's Patroni configuration (Patroni docs: yaml_configuration, dynamic_configuration) from the
/// cluster's <see cref="ClusterConfig"/>: a configuration measured working here with Patroni 3.0.2 and etcd 3.4 (etcd v2 API; docker/README.md).
/// Members and etcd are reached by their network aliases (<c>pg1</c>, <c>etcd1</c>).
/// </summary>
public static class PatroniYaml
{
    /// <summary>The network alias of the etcd container.</summary>
    public const string EtcdHost = "etcd1";

    /// <summary>Patroni's REST port in every member.</summary>
    public const int RestPort = 8008;

    /// <summary>PostgreSQL's port in every member.</summary>
    public const int PostgresPort = 5432;

    /// <summary>The data directory inside a member container.</summary>
    public const string DataDirectory = "/var/lib/postgresql/data/pg";

    /// <summary>The unix socket directory inside a member container (for <c>psql -h</c> from docker exec).</summary>
    public const string SocketDirectory = "/tmp";

    public static string Render(ClusterConfig config, string scope, string member, string password)
    {
        var yaml = new StringBuilder();
        void Line(string text) => yaml.Append(text).Append('\n');

        Line($"scope: {scope}");
        Line($"name: {member}");
        Line("log:");
        Line("  level: INFO");
        Line("restapi:");
        Line($"  listen: 0.0.0.0:{RestPort}");
        Line($"  connect_address: {member}:{RestPort}");
        Line(config.Dcs == DcsFlavor.Etcd3 ? "etcd3:" : "etcd:");
        Line($"  hosts: {EtcdHost}:2379");
        Line("bootstrap:");
        AppendDynamicConfiguration(yaml, config);
        Line("  initdb:");
        Line("    - encoding: UTF8");
        Line("    - data-checksums");
        Line("  pg_hba:");
        Line("    - local all all trust");
        Line("    - host replication replicator 0.0.0.0/0 scram-sha-256");
        Line("    - host all all 0.0.0.0/0 scram-sha-256");
        Line("postgresql:");
        Line($"  listen: 0.0.0.0:{PostgresPort}");
        Line($"  connect_address: {member}:{PostgresPort}");
        Line($"  data_dir: {DataDirectory}");
        Line($"  bin_dir: /usr/lib/postgresql/{config.PostgresMajor.ToString(CultureInfo.InvariantCulture)}/bin");
        Line("  pgpass: /tmp/pgpass");
        Line("  authentication:");
        Line("    superuser:");
        Line("      username: postgres");
        Line($"      password: '{password}'");
        Line("    replication:");
        Line("      username: replicator");
        Line($"      password: '{password}'");
        Line("  parameters:");
        Line($"    unix_socket_directories: '{SocketDirectory}'");
        if (config.SynchronizedStandbySlots)
        {
            // Read on the primary only, so each member lists the others' physical slots (Patroni names them after the members).
            Line($"    synchronized_standby_slots: '{string.Join(',', config.MemberNames.Where(m => m != member))}'");
        }
        Line("tags:");
        Line("  nofailover: false");
        Line("  noloadbalance: false");
        Line("  clonefrom: false");
        return yaml.ToString();
    }

    /// <summary>
    /// Appends <c>  dcs:</c> and Patroni's dynamic configuration under it (the timings, synchronous mode, permanent and
    /// ignored slots, the PostgreSQL parameters logical decoding and rewinds need), indented to sit under <c>bootstrap:</c>.
    /// Shared by the Debian image's patroni.yml and the Spilo flavor's SPILO_CONFIGURATION, which adds
    /// <paramref name="extraParameters"/> (<c>name: value</c>) to the PostgreSQL parameters.
    /// </summary>
    public static void AppendDynamicConfiguration(StringBuilder yaml, ClusterConfig config, params string[] extraParameters)
    {
        var inv = CultureInfo.InvariantCulture;
        void Line(string text) => yaml.Append(text).Append('\n');

        Line("  dcs:");
        Line($"    ttl: {config.Ttl.ToString(inv)}");
        Line($"    loop_wait: {config.LoopWait.ToString(inv)}");
        Line($"    retry_timeout: {config.RetryTimeout.ToString(inv)}");
        Line($"    maximum_lag_on_failover: {config.MaximumLagOnFailover.ToString(inv)}");
        Line($"    synchronous_mode: {(config.SynchronousMode != SynchronousMode.Off ? "true" : "false")}");
        Line($"    synchronous_mode_strict: {(config.SynchronousMode == SynchronousMode.Strict ? "true" : "false")}");
        if (!config.PermanentSlots.IsDefaultOrEmpty)
        {
            Line("    permanent_slots:");
            foreach (var slot in config.PermanentSlots)
            {
                Line($"      {slot}:");
                Line("        type: logical");
                Line($"        database: {SlotDefaults.Database}");
                Line($"        plugin: {SlotDefaults.Plugin}");
            }
        }
        if (!config.IgnoreSlots.IsDefaultOrEmpty)
        {
            Line("    ignore_slots:");
            foreach (var slot in config.IgnoreSlots)
            {
                Line($"      - name: {slot}");
            }
        }
        Line("    postgresql:");
        Line("      use_pg_rewind: true");
        Line("      use_slots: true");
        Line("      parameters:");
        Line("        wal_level: logical");
        Line("        hot_standby: 'on'");
        Line("        max_wal_senders: 10");
        Line("        max_replication_slots: 10");
        Line("        wal_log_hints: 'on'");
        Line("        max_wal_size: 128MB");
        Line("        min_wal_size: 32MB");
        Line("        wal_keep_size: 64MB");
        if (config.FailoverSlots)
        {
            // PostgreSQL 17's slotsync worker on the standbys (Patroni 4 puts dbname in primary_conninfo, which it needs).
            Line("        hot_standby_feedback: 'on'");
            Line("        sync_replication_slots: 'on'");
        }
        foreach (var parameter in extraParameters)
        {
            Line($"        {parameter}");
        }
    }
}
