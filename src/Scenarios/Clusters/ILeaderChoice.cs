namespace PatroniModel.Scenarios.Clusters;

/// <summary>
/// A cluster whose leader race is an open choice (the model: any healthy replica within maximum_lag_on_failover may win).
/// The conformance runner tells it which member reality picked, so the model follows reality's choice when that
/// choice is one of its allowed outcomes, and reports the allowed set when it is not.
/// </summary>
public interface ILeaderChoice
{
    /// <summary>Prefer <paramref name="member"/> when the next elections have more than one allowed winner; null: the model's own choice.</summary>
    void PreferLeader(string? member);

    /// <summary>The members that were allowed to win the last election (empty before any).</summary>
    IReadOnlyList<string> LastAllowedLeaders { get; }

    /// <summary>Prefer <paramref name="member"/> when the leader next picks a synchronous standby; null: the model's own choice.</summary>
    void PreferSyncStandby(string? member)
    {
    }
}

/// <summary>A cluster that reports which member its leader last named synchronous standby (Patroni's <c>GET /cluster</c>, role <c>sync_standby</c>).</summary>
public interface ISyncStandbySource
{
    /// <summary>The synchronous standby as of the last observation; null when none (or not synchronous mode).</summary>
    string? SyncStandby { get; }
}
