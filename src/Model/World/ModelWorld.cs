using PatroniModel.Model.Time;
using PatroniModel.Scenarios.Configuration;

namespace PatroniModel.Model.World;

/// <summary>What every actor of one cluster shares: the clock, the trace, the network fabric, the seeded random and the options.</summary>
public sealed class ModelWorld
{
    public ModelWorld(ClusterConfig config, int seed, ModelOptions options)
    {
        InitialConfig = config;
        Network = new ModelNetwork(config.MemberNames, Clock);
        Random = new Random(seed);
        Options = options;
        PreferredSyncStandby = options.PreferredSyncStandby;
    }

    public ClusterConfig InitialConfig { get; }

    /// <summary>Where WAL stands after initdb and bootstrap: the configuration's <c>initial_wal</c>, else <see cref="Postgres.WalSizes.Initial"/>.</summary>
    public Scenarios.Wal.Lsn InitialWal => InitialConfig.InitialWal ?? Postgres.WalSizes.Initial;
    public VirtualClock Clock { get; } = new();
    public ModelTrace Trace { get; } = new();
    public ModelNetwork Network { get; }
    public Random Random { get; }
    public ModelOptions Options { get; }

    /// <summary>When set, only this member races for a free lease while it is reachable (see <c>ModelCluster.PreferredCandidate</c>).</summary>
    public string? PreferredCandidate { get; set; }

    /// <summary>When set, the replica a leader picks as synchronous standby when it picks one and this one is healthy (see <c>ModelCluster.PreferredSyncStandby</c>).</summary>
    public string? PreferredSyncStandby { get; set; }

    /// <summary>
    /// Each member's REST status (<c>GET /patroni</c>: running as primary or in recovery, timeline, WAL position), read live:
    /// what Patroni's is_healthiest_node asks the other members. Only members that are reachable answer.
    /// </summary>
    public Dictionary<string, Func<RestStatus>> Rest { get; } = new(StringComparer.Ordinal);

    /// <summary>The first exception an actor threw; the cluster rethrows it from the next step.</summary>
    public Exception? Failure { get; set; }

    public long Now => Clock.Now;

    public void Record(string member, string kind, string detail = "") => Trace.Record(Clock.Now, member, kind, detail);
}

/// <summary>What a member's REST API reports about its PostgreSQL.</summary>
public sealed record RestStatus(bool IsPrimary, int Timeline, PatroniModel.Scenarios.Wal.Lsn Lsn);
