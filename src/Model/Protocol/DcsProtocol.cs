using System.Collections.Immutable;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Protocol;

/// <summary>The leader key: who holds it and when its TTL runs out.</summary>
public sealed record LeaderLease(string Holder, long ExpiresAt);

/// <summary>A member key (<c>/members/pgN</c>) as the member last wrote it; it expires after ttl.</summary>
public sealed record MemberKey(string Name, string Role, string State, int Timeline, Lsn Lsn, long ExpiresAt)
{
    public bool IsLeader => Role == "leader";
}

/// <summary>The <c>/sync</c> key: the leader and its synchronous standby.</summary>
public sealed record SyncKey(string? Leader, string? Standby)
{
    public static SyncKey Empty { get; } = new(null, null);

    /// <summary>No primary has written the key yet: synchronous mode is requested but not active.</summary>
    public bool IsEmpty => Leader is null && Standby is null;

    /// <summary>Patroni's <c>SyncState.matches</c>: the member may be promoted automatically in synchronous mode.</summary>
    public bool Matches(string member) => Leader == member || Standby == member;
}

/// <summary>The <c>/failover</c> key written by <c>POST /switchover</c> or <c>POST /failover</c>.</summary>
public sealed record FailoverKey(string? Leader, string? Candidate, bool IsFailover = false)
{
    /// <summary>
    /// Patroni 4's rule (<see cref="PatroniModel.Scenarios.Configuration.ClusterConfig.FailoverToAsyncInSyncMode"/>): a
    /// failover request names no leader (POST /failover with a candidate only), so in synchronous mode it may go to an
    /// asynchronous member; a switchover may not.
    /// </summary>
    public bool AllowsAsyncCandidate(Scenarios.Configuration.ClusterConfig config) => IsFailover && config.FailoverToAsyncInSyncMode;
}

/// <summary>One leader change recorded in the DCS history: the new timeline and where it forked.</summary>
public sealed record TimelineHistoryEntry(int Timeline, Lsn Fork, string Leader, long At);

/// <summary>What a member reports in its member key on each HA cycle.</summary>
internal sealed record MemberStatus(string Name, bool IsLeader, bool Streaming, int Timeline, Lsn Lsn);

/// <summary>A consistent read of the DCS at one virtual time.</summary>
/// <param name="Renewed">True when this HA cycle renewed the reader's leader lease.</param>
public sealed record DcsView(
    long At,
    ClusterConfig Config,
    LeaderLease? Lease,
    Lsn Optime,
    ImmutableArray<MemberKey> Members,
    SyncKey Sync,
    FailoverKey? Failover,
    ImmutableArray<TimelineHistoryEntry> History,
    string? LastLeader,
    bool Renewed)
{
    public int MaxTimeline => History.IsDefaultOrEmpty ? 1 : History.Max(h => h.Timeline);

    public MemberKey? Member(string name)
    {
        foreach (var key in Members)
        {
            if (key.Name == name)
            {
                return key;
            }
        }
        return null;
    }
}

/// <summary>One HA cycle's DCS round trip: write the member key, renew the lease when holding it, read everything.</summary>
internal sealed record HaCycle(MemberStatus Status);

/// <summary>Create the leader key if absent (compare-and-swap on "no leader").</summary>
internal sealed record AcquireLease(string Member);

/// <summary>The answer to <see cref="AcquireLease"/>.</summary>
internal sealed record LeaseAnswer(bool Acquired, DcsView View);

/// <summary>Delete the leader key if held by <paramref name="Member"/> (graceful switchover); wakes the watchers.</summary>
internal sealed record ReleaseLease(string Member, string Reason);

internal sealed record SetSyncKey(string Leader, string? Standby);

internal sealed record RecordPromotion(string Member, int Timeline, Lsn Fork);

internal sealed record SetFailoverKey(FailoverKey? Key);

internal sealed record PatchDynamicConfig(ClusterConfig Config);

/// <summary>Bootstraps the cluster: <paramref name="Leader"/> holds the lease.</summary>
internal sealed record BootstrapDcs(string Leader, ImmutableArray<Akka.Actor.IActorRef> Watchers, ImmutableArray<string> WatcherNames);

/// <summary>Read the DCS (for the driver and the REST endpoint).</summary>
internal sealed record ReadDcs
{
    public static ReadDcs Instance { get; } = new();
}

internal sealed record LeaseTtlElapsed(long Generation);
