using System.Collections.Immutable;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Npgsql;
using NpgsqlTypes;
using PatroniModel.Consumer.Reconciling;
using PatroniModel.Scenarios.Artifacts;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.RealCluster.Clusters;

/// <summary>The output of a command run in a container.</summary>
public sealed record ExecResult(long ExitCode, string Stdout, string Stderr);

public sealed partial class PatroniCluster
{
    /// <summary>The synchronous standby Patroni's <c>GET /cluster</c> named at the last <see cref="ObserveAsync"/> (role <c>sync_standby</c>); null when none.</summary>
    public string? SyncStandby { get; private set; }

    /// <summary>
    /// Observes every member. The replicas are read first (in parallel) and the leader last, so no replica's WAL position
    /// is read later than the leader's: a leader keeps writing WAL by itself (right after a promotion it writes full-page
    /// images), and reading both at once could show a replica past its leader.
    /// </summary>
    public async Task<Observation> ObserveAsync(CancellationToken cancellationToken = default)
    {
        var view = await GetClusterViewAsync(cancellationToken).ConfigureAwait(false);
        var leaderName = view?.Leader?.Name;
        SyncStandby = view?.Members.FirstOrDefault(m => m.Role == "sync_standby")?.Name;
        var replicas = await Task.WhenAll(Members.Where(m => m.Name != leaderName).Select(m => ObserveMemberAsync(m, view, cancellationToken))).ConfigureAwait(false);
        var leaders = await Task.WhenAll(Members.Where(m => m.Name == leaderName).Select(m => ObserveMemberAsync(m, view, cancellationToken))).ConfigureAwait(false);
        var members = Members.Select(m => replicas.Concat(leaders).First(o => o.Name == m.Name)).ToArray();
        var lost = ImmutableArray<long>.Empty;
        if (Members.FirstOrDefault(m => m.Name == leaderName) is { State: MemberState.Running } leader)
        {
            try
            {
                var held = await ReadRowIdsAsync(leader, cancellationToken).ConfigureAwait(false);
                lost = [.. _acknowledged.Where(id => !held.Contains(id))];
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Say($"observe: could not read rows on leader {leader.Name}: {e.GetBaseException().Message}");
            }
        }
        return new Observation(
            _clock.ElapsedMilliseconds,
            leaderName,
            [.. members],
            _consumers.Positions,
            _acknowledged.Count,
            lost);
    }

    private async Task<MemberObservation> ObserveMemberAsync(ClusterMember member, Rest.RestClusterView? view, CancellationToken cancellationToken)
    {
        var unknown = new MemberObservation(member.Name, MemberRole.Unknown, member.State, 0, Lsn.Zero, false, false, [], "", 0);
        if (member.State != MemberState.Running)
        {
            return unknown;
        }
        var status = await _rest.TryGetStatusAsync(member.RestUri, cancellationToken).ConfigureAwait(false);
        var restRole = view?.Members.FirstOrDefault(m => m.Name == member.Name);
        var role = restRole?.IsLeader == true ? MemberRole.Leader
            : restRole is not null ? MemberRole.Replica
            : status?.Role is "master" or "primary" ? MemberRole.Leader
            : status?.Role is "replica" ? MemberRole.Replica
            : MemberRole.Unknown;
        try
        {
            await using var connection = await OpenAsync(member, cancellationToken, 5).ConfigureAwait(false);
            const string sql = """
                SELECT pg_is_in_recovery(),
                       CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
                       current_setting('transaction_read_only') = 'off',
                       coalesce((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false),
                       CASE WHEN pg_is_in_recovery() THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver), 0)
                            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END
                """;
            bool inRecovery, readWrite, streaming;
            Lsn wal;
            int sqlTimeline;
            await using (var command = new NpgsqlCommand(sql, connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                inRecovery = reader.GetBoolean(0);
                wal = reader.IsDBNull(1) ? Lsn.Zero : reader.GetFieldValue<NpgsqlLogSequenceNumber>(1).ToLsn();
                readWrite = reader.GetBoolean(2);
                streaming = reader.GetBoolean(3);
                sqlTimeline = reader.GetInt32(4);
            }
            var slots = await ReadSlotsAsync(connection, cancellationToken).ConfigureAwait(false);
            var (digest, rows) = await ReadDigestAsync(connection, cancellationToken).ConfigureAwait(false);
            return new MemberObservation(
                member.Name, role, member.State, status?.Timeline ?? sqlTimeline, wal,
                !inRecovery && readWrite, inRecovery && streaming, slots, digest, rows);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return unknown with { Role = role, Timeline = status?.Timeline ?? 0 };
        }
    }

    /// <summary>The committed-rows digest and row count on <paramref name="member"/> (<see cref="RowDigest.Sql"/>).</summary>
    public async Task<(string Digest, int Rows)> ReadDigestAsync(ClusterMember member, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(member, cancellationToken).ConfigureAwait(false);
        return await ReadDigestAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The logical slots on <paramref name="member"/> (<c>pg_replication_slots</c>).</summary>
    public async Task<ImmutableArray<SlotObservation>> ReadSlotsAsync(ClusterMember member, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(member, cancellationToken).ConfigureAwait(false);
        return await ReadSlotsAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The client row ids on <paramref name="member"/>.</summary>
    public async Task<HashSet<long>> ReadRowIdsAsync(ClusterMember member, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(member, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"SELECT id FROM {RowDigest.Table}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var ids = new HashSet<long>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetInt64(0));
        }
        return ids;
    }

    private static async Task<(string Digest, int Rows)> ReadDigestAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = new NpgsqlCommand(RowDigest.Sql, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return (reader.GetString(0), reader.GetInt32(1));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return (RowDigest.Compute([]), 0);
        }
    }

    private static async Task<ImmutableArray<SlotObservation>> ReadSlotsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT slot_name::text, confirmed_flush_lsn, restart_lsn FROM pg_replication_slots WHERE slot_type = 'logical' ORDER BY slot_name",
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var slots = ImmutableArray.CreateBuilder<SlotObservation>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            slots.Add(new SlotObservation(
                reader.GetString(0),
                reader.IsDBNull(1) ? Lsn.Zero : reader.GetFieldValue<NpgsqlLogSequenceNumber>(1).ToLsn(),
                reader.IsDBNull(2) ? Lsn.Zero : reader.GetFieldValue<NpgsqlLogSequenceNumber>(2).ToLsn()));
        }
        return slots.ToImmutable();
    }

    /// <summary>Runs <paramref name="script"/> with <c>sh -c</c> in <paramref name="member"/>'s container as <c>postgres</c>.</summary>
    public async Task<ExecResult> ExecAsync(ClusterMember member, string script, CancellationToken cancellationToken = default)
    {
        var exec = await _docker.Exec.ExecCreateContainerAsync(member.ContainerId, new ContainerExecCreateParameters
        {
            Cmd = ["sh", "-c", script],
            AttachStdout = true,
            AttachStderr = true,
            User = "postgres",
        }, cancellationToken).ConfigureAwait(false);
        using var stream = await _docker.Exec.StartAndAttachContainerExecAsync(exec.ID, false, cancellationToken).ConfigureAwait(false);
        var (stdout, stderr) = await stream.ReadOutputToEndAsync(cancellationToken).ConfigureAwait(false);
        var inspect = await _docker.Exec.InspectContainerExecAsync(exec.ID, cancellationToken).ConfigureAwait(false);
        return new ExecResult(inspect.ExitCode, stdout, stderr);
    }

    /// <summary>The whole log of a container (stdout and stderr, with timestamps).</summary>
    public async Task<string> ReadLogAsync(ClusterMember member, CancellationToken cancellationToken = default)
    {
        try
        {
            using var stream = await _docker.Containers.GetContainerLogsAsync(member.ContainerId, false, new ContainerLogsParameters
            {
                ShowStdout = true,
                ShowStderr = true,
                Timestamps = true,
            }, cancellationToken).ConfigureAwait(false);
            var (stdout, stderr) = await stream.ReadOutputToEndAsync(cancellationToken).ConfigureAwait(false);
            return stdout + stderr;
        }
        catch (DockerApiException e)
        {
            return $"(no log: {e.Message})";
        }
    }

    private async Task<string> TailLogAsync(ClusterMember member, int lines, CancellationToken cancellationToken)
    {
        var log = await ReadLogAsync(member, cancellationToken).ConfigureAwait(false);
        var all = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', all.OrderBy(l => l, StringComparer.Ordinal).TakeLast(lines));
    }

    /// <summary>
    /// Leaves the evidence of a failing test in <c>artifacts/e2e/&lt;test&gt;/&lt;utc&gt;/</c>: each container's log,
    /// the step history, the last observation and the failure. Returns the directory.
    /// </summary>
    public async Task<string> SaveEvidenceAsync(string testName, Exception? failure, CancellationToken cancellationToken = default)
    {
        var directory = ArtifactFolder.Create(Path.Combine("e2e", ArtifactFolder.SafeName(testName)), DateTimeOffset.UtcNow);
        foreach (var member in Members.Append(Etcd))
        {
            var log = await ReadLogAsync(member, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(directory, $"{member.Name}.log"), log, cancellationToken).ConfigureAwait(false);
        }
        var history = new StringBuilder();
        foreach (var step in _history)
        {
            history.AppendLine(step.ToString());
        }
        await File.WriteAllTextAsync(Path.Combine(directory, "history.txt"), history.ToString(), cancellationToken).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var observation = await ObserveAsync(timeout.Token).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(directory, "observation.txt"), observation.ToString(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "observation.txt"), $"could not observe: {e.Message}", cancellationToken).ConfigureAwait(false);
        }
        if (failure is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString(), cancellationToken).ConfigureAwait(false);
        }
        Say($"evidence saved to {directory}");
        return directory;
    }
}
