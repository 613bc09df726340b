using System.Diagnostics;
using System.Text;
using Npgsql;
using PatroniModel.RealCluster.Rest;
using PatroniModel.RealCluster.Waiting;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.RealCluster.Clusters;

public sealed partial class PatroniCluster
{
    /// <summary>How long waits take at most unless told otherwise: minutes, not hours.</summary>
    public static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromMinutes(3);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(300);

    /// <summary>The members the tests left running (not killed, frozen or partitioned).</summary>
    public IEnumerable<ClusterMember> RunningMembers => Members.Where(m => m.State == MemberState.Running);

    /// <summary>
    /// Patroni's <c>GET /cluster</c> from the first running member that answers (asked in parallel), or null when none does.
    /// </summary>
    public async Task<RestClusterView?> GetClusterViewAsync(CancellationToken cancellationToken = default)
    {
        var asks = RunningMembers.Select(m => _rest.TryGetClusterAsync(m.RestUri, cancellationToken)).ToList();
        RestClusterView? withoutLeader = null;
        while (asks.Count > 0)
        {
            var done = await Task.WhenAny(asks).ConfigureAwait(false);
            asks.Remove(done);
            var view = await done.ConfigureAwait(false);
            if (view?.Leader is not null)
            {
                return view;
            }
            withoutLeader ??= view;
        }
        return withoutLeader;
    }

    /// <summary>The member holding the leader key according to Patroni, when one is running and answers SQL as a primary.</summary>
    public async Task<ClusterMember?> FindWritableLeaderAsync(CancellationToken cancellationToken = default)
    {
        var view = await GetClusterViewAsync(cancellationToken).ConfigureAwait(false);
        if (view?.Leader is not { } leader || Members.FirstOrDefault(m => m.Name == leader.Name) is not { State: MemberState.Running } member)
        {
            return null;
        }
        try
        {
            await using var connection = await OpenAsync(member, cancellationToken, 5).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'", connection);
            return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! ? member : null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Waits until a running member holds the leader key and accepts writes; returns it.</summary>
    public async Task<ClusterMember> WaitForLeaderAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ClusterMember? leader = null;
        await WaitUntilAsync("a writable leader", timeout, async () =>
        {
            leader = await FindWritableLeaderAsync(cancellationToken).ConfigureAwait(false);
            if (leader is not null)
            {
                return (true, $"leader {leader.Name}");
            }
            var view = await GetClusterViewAsync(cancellationToken).ConfigureAwait(false);
            return (false, view?.ToString() ?? "no member answered /cluster");
        }, cancellationToken).ConfigureAwait(false);
        return leader!;
    }

    /// <summary>
    /// Waits until the cluster is stable: a running member is leader and writable, and every other running member
    /// streams from it (<c>pg_stat_replication</c> on the leader: Patroni 3.0.2's <c>/cluster</c> says <c>running</c>,
    /// not <c>streaming</c>) and has replayed the leader's WAL position taken at the start of the check.
    /// In synchronous mode, /sync also names a standby (role <c>sync_standby</c>) when any replica runs.
    /// </summary>
    public async Task<ClusterMember> SettleAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ClusterMember? settled = null;
        await WaitUntilAsync("one writable leader with every running member streaming and caught up", timeout, async () =>
        {
            var view = await GetClusterViewAsync(cancellationToken).ConfigureAwait(false);
            if (view?.Leader is not { } leaderView)
            {
                return (false, view?.ToString() ?? "no running member answered /cluster");
            }
            var leader = Members.FirstOrDefault(m => m.Name == leaderView.Name);
            if (leader is not { State: MemberState.Running })
            {
                return (false, $"leader key held by {leaderView.Name}, which is {leader?.State.ToString().ToLowerInvariant() ?? "unknown"}; {view}");
            }
            try
            {
                await using var connection = await OpenAsync(leader, cancellationToken, 5).ConfigureAwait(false);
                await using (var check = new NpgsqlCommand("SELECT pg_is_in_recovery(), pg_current_wal_lsn()::text", connection))
                await using (var reader = await check.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    if (reader.GetBoolean(0))
                    {
                        return (false, $"{leader.Name} holds the leader key but is still in recovery; {view}");
                    }
                }
                await using var command = new NpgsqlCommand(
                    "SELECT application_name, state, coalesce(replay_lsn >= pg_current_wal_lsn(), false) FROM pg_stat_replication", connection);
                var streaming = new Dictionary<string, (string State, bool CaughtUp)>(StringComparer.Ordinal);
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        streaming[reader.GetString(0)] = (reader.GetString(1), reader.GetBoolean(2));
                    }
                }
                var missing = RunningMembers
                    .Where(m => m != leader)
                    .Where(m => !streaming.TryGetValue(m.Name, out var s) || s.State != "streaming" || !s.CaughtUp)
                    .Select(m => streaming.TryGetValue(m.Name, out var s) ? $"{m.Name} {s.State}{(s.CaughtUp ? "" : " behind")}" : $"{m.Name} not in pg_stat_replication")
                    .ToList();
                if (missing.Count > 0)
                {
                    return (false, $"leader {leader.Name}; waiting for {string.Join(", ", missing)}; {view}");
                }
                // Patroni (use_slots) keeps a physical slot per member on the leader; creating one makes it reload its slot
                // state on its next cycle, dropping unknown logical slots. Stable means those slots exist.
                await using var slots = new NpgsqlCommand("SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'physical'", connection);
                var physical = new HashSet<string>(StringComparer.Ordinal);
                await using (var reader = await slots.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        physical.Add(reader.GetString(0));
                    }
                }
                var noSlot = RunningMembers.Where(m => m != leader && !physical.Contains(m.Name)).Select(m => m.Name).ToList();
                if (noSlot.Count > 0)
                {
                    return (false, $"leader {leader.Name}; no physical slot yet for {string.Join(", ", noSlot)}; {view}");
                }
                // In synchronous mode Patroni names the standby in /sync (role sync_standby) 2 s after synchronous_standby_names.
                if (Config.SynchronousMode != SynchronousMode.Off && RunningMembers.Any(m => m != leader)
                    && !view.Members.Any(m => m.Role == "sync_standby"))
                {
                    return (false, $"leader {leader.Name}; /sync names no synchronous standby yet; {view}");
                }
                settled = leader;
                return (true, $"leader {leader.Name}, {streaming.Count} streaming");
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return (false, $"leader {leader.Name} does not answer SQL ({e.GetBaseException().Message}); {view}");
            }
        }, cancellationToken).ConfigureAwait(false);
        // One more Patroni cycle, so a slot-state reload scheduled by a just-created physical slot has happened.
        await Task.Delay(TimeSpan.FromSeconds(Config.Timings.LoopWait + 0.5), cancellationToken).ConfigureAwait(false);
        return settled!;
    }

    /// <summary>How long <see cref="CatchUpReplicasAsync"/> waits at most: asynchronous replication lags milliseconds here.</summary>
    public static readonly TimeSpan ReplicaCatchUpBound = TimeSpan.FromSeconds(2);

    /// <summary>
    /// After a step that wrote WAL on the leader: waits, at most <see cref="ReplicaCatchUpBound"/>, until every running
    /// replica that streams from the leader (<c>pg_stat_replication</c>) has replayed the leader's WAL position taken at
    /// the start of the wait. The model streams instantly; reality's asynchronous replication lags a few milliseconds, so
    /// a replica read right after a write may hold 10 of 12 rows. Never fails: a replica that has not caught up within the
    /// bound is left as it is, so the observation that follows shows it (a replica that never gets the rows still shows).
    /// Returns what it saw, for the log.
    /// </summary>
    public async Task<string> CatchUpReplicasAsync(CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        if (await FindWritableLeaderAsync(cancellationToken).ConfigureAwait(false) is not { } leader)
        {
            return "no writable leader";
        }
        var replicas = RunningMembers.Where(m => m != leader).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        try
        {
            await using var connection = await OpenAsync(leader, cancellationToken, 5).ConfigureAwait(false);
            string target;
            await using (var current = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", connection))
            {
                target = (string)(await current.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }
            await using var command = new NpgsqlCommand(
                "SELECT application_name, coalesce(replay_lsn >= $1::pg_lsn, false) FROM pg_stat_replication WHERE state = 'streaming'", connection)
            {
                Parameters = { new NpgsqlParameter { Value = target } },
            };
            while (true)
            {
                var behind = new List<string>();
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        if (replicas.Contains(reader.GetString(0)) && !reader.GetBoolean(1))
                        {
                            behind.Add(reader.GetString(0));
                        }
                    }
                }
                if (behind.Count == 0)
                {
                    return $"streaming replicas of {leader.Name} caught up in {watch.Elapsed.TotalMilliseconds:F0} ms";
                }
                if (watch.Elapsed > ReplicaCatchUpBound)
                {
                    return $"{string.Join(", ", behind)} still behind {leader.Name} after {ReplicaCatchUpBound.TotalSeconds:F0} s";
                }
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return $"{leader.Name} does not answer SQL ({e.GetBaseException().Message})";
        }
    }

    /// <summary>Waits until the logical slot <paramref name="slot"/> is on <paramref name="member"/>; returns its confirmed_flush_lsn.</summary>
    public async Task<Lsn> WaitForSlotAsync(ClusterMember member, string slot, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        Lsn position = Lsn.Zero;
        await WaitUntilAsync($"slot {slot} on {member.Name}", timeout, async () =>
        {
            try
            {
                var slots = await ReadSlotsAsync(member, cancellationToken).ConfigureAwait(false);
                if (slots.FirstOrDefault(s => s.Name == slot) is { } found)
                {
                    position = found.ConfirmedFlush;
                    return (true, found.ToString());
                }
                return (false, $"slots on {member.Name}: [{string.Join(", ", slots)}]");
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return (false, $"{member.Name} does not answer SQL ({e.GetBaseException().Message})");
            }
        }, cancellationToken).ConfigureAwait(false);
        return position;
    }

    /// <summary>
    /// Polls <paramref name="check"/> until it says done. On timeout throws <see cref="ClusterWaitTimeoutException"/> with
    /// what was awaited, the last thing seen and the tail of every container's log.
    /// </summary>
    public async Task WaitUntilAsync(string what, TimeSpan? timeout, Func<Task<(bool Done, string Seen)>> check, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? DefaultWaitTimeout;
        var watch = Stopwatch.StartNew();
        var seen = "nothing yet";
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (done, now) = await check().ConfigureAwait(false);
            seen = now;
            if (done)
            {
                Say($"waited {watch.Elapsed.TotalSeconds:F1}s for {what}: {seen}");
                return;
            }
            if (watch.Elapsed > limit)
            {
                break;
            }
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
        var message = new StringBuilder()
            .Append($"timed out after {limit.TotalSeconds:F0}s waiting for {what}; last seen: {seen}; members: {string.Join(", ", Members)}");
        foreach (var member in Members.Append(Etcd))
        {
            var tail = await TailLogAsync(member, 8, CancellationToken.None).ConfigureAwait(false);
            message.Append($"\n--- {member.Name} log tail:\n{tail}");
        }
        throw new ClusterWaitTimeoutException(message.ToString());
    }
}
