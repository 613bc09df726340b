using System.Text.Json.Nodes;
using Docker.DotNet;
using Docker.DotNet.Models;
using Npgsql;
using NpgsqlTypes;
using PatroniModel.Consumer.Reconciling;
using PatroniModel.RealCluster.Waiting;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.RealCluster.Clusters;

/// <summary>The client's and the consumer's steps on a real cluster, in SQL on the writable leader: slots, rows, WAL, consume.</summary>
public sealed partial class PatroniCluster
{
    private const string TimelineSql = "('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int";
    private const int AdvanceChunkBytes = 1 << 20;

    private async Task<StepResult> CreateSlotAsync(CreateSlot step, CancellationToken cancellationToken)
    {
        if (await FindWritableLeaderAsync(cancellationToken).ConfigureAwait(false) is not { } leader)
        {
            return StepResult.Refused(step, "no writable leader");
        }
        if (step.Permanent)
        {
            if (Config.PermanentSlots.Contains(step.SlotName))
            {
                return StepResult.Refused(step, $"{step.SlotName} is already permanent");
            }
            var patched = await PatchAsync(new ConfigPatch { PermanentSlots = Config.PermanentSlots.Add(step.SlotName) }, cancellationToken).ConfigureAwait(false);
            if (!patched.IsSuccess)
            {
                return StepResult.Refused(step, $"PATCH /config: {patched}");
            }
            var position = await WaitForSlotAsync(leader, step.SlotName, TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
            var timeline = await ReadTimelineAsync(leader, cancellationToken).ConfigureAwait(false);
            _consumers.Confirmed(new ConsumerPosition(step.SlotName, position, timeline));
            return StepResult.Ok(step, $"permanent, on {leader.Name} at {position}");
        }
        await using var connection = await OpenAsync(leader, cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = new NpgsqlCommand(
                $"SELECT lsn, {TimelineSql} FROM pg_create_logical_replication_slot(@slot, @plugin{(Config.FailoverSlots ? ", false, false, true" : "")})", connection);
            command.Parameters.AddWithValue("slot", step.SlotName);
            command.Parameters.AddWithValue("plugin", SlotDefaults.Plugin);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var position = reader.GetFieldValue<NpgsqlLogSequenceNumber>(0).ToLsn();
            _consumers.Confirmed(new ConsumerPosition(step.SlotName, position, reader.GetInt32(1)));
            return StepResult.Ok(step, $"on {leader.Name} at {position}");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateObject)
        {
            return StepResult.Refused(step, $"slot exists on {leader.Name}");
        }
    }

    private async Task<StepResult> DropSlotAsync(DropSlot step, CancellationToken cancellationToken)
    {
        if (await FindWritableLeaderAsync(cancellationToken).ConfigureAwait(false) is not { } leader)
        {
            return StepResult.Refused(step, "no writable leader");
        }
        var wasPermanent = Config.PermanentSlots.Contains(step.SlotName);
        if (wasPermanent)
        {
            var patched = await PatchAsync(new ConfigPatch { PermanentSlots = Config.PermanentSlots.Remove(step.SlotName) }, cancellationToken).ConfigureAwait(false);
            if (!patched.IsSuccess)
            {
                return StepResult.Refused(step, $"PATCH /config: {patched}");
            }
        }
        // The consumer keeps its persisted position: dropping the slot on the server is what a reconcile must detect (as the model does).
        var dropped = await DropSlotOnAsync(leader, step.SlotName, cancellationToken).ConfigureAwait(false);
        if (!dropped && wasPermanent)
        {
            // The PATCH made the slot unknown to Patroni, and the loop it woke dropped it first ("Dropped unknown
            // replication slot"): the step's outcome, the slot gone, is the same.
            return StepResult.Ok(step, $"dropped on {leader.Name} by Patroni after the permanent-slots change");
        }
        return dropped ? StepResult.Ok(step, $"dropped on {leader.Name}") : StepResult.Refused(step, $"no slot {step.SlotName} on {leader.Name}");
    }

    private async Task<bool> DropSlotOnAsync(ClusterMember member, string slot, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using var connection = await OpenAsync(member, cancellationToken).ConfigureAwait(false);
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_drop_replication_slot(@slot)", connection);
                command.Parameters.AddWithValue("slot", slot);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedObject)
            {
                return false;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 20)
            {
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Writes rows one transaction each. A row is acknowledged when its commit returned after the synchronous standby (if
    /// any) confirmed it. A commit whose wait for synchronous replication was cancelled (the 5 s command timeout: Npgsql
    /// sends a cancel request) also returns success, with PostgreSQL's WARNING "canceling wait for synchronous
    /// replication ... has already committed locally": the client counts it failed, as the model's client does after its
    /// commit timeout, because nothing Patroni promises covers it.
    /// </summary>
    private async Task<StepResult> WriteAsync(Write step, CancellationToken cancellationToken)
    {
        var acked = 0;
        var failed = 0;
        var unreplicated = 0;
        NpgsqlConnection? connection = null;
        string? on = null;
        var waitCancelled = false;
        void OnNotice(object? sender, NpgsqlNoticeEventArgs e) =>
            waitCancelled |= e.Notice.MessageText.Contains("canceling wait for synchronous replication", StringComparison.Ordinal);
        try
        {
            for (var i = 0; i < step.Rows; i++)
            {
                var id = _nextRowId++;
                try
                {
                    if (connection is null)
                    {
                        var leader = await FindWritableLeaderAsync(cancellationToken).ConfigureAwait(false)
                                     ?? throw new TimeoutException("no writable leader");
                        connection = await OpenAsync(leader, cancellationToken, 5).ConfigureAwait(false);
                        connection.Notice += OnNotice;
                        on = leader.Name;
                    }
                    waitCancelled = false;
                    await using var command = new NpgsqlCommand($"INSERT INTO {RowDigest.Table} (id, payload) VALUES (@id, @payload)", connection);
                    command.Parameters.AddWithValue("id", id);
                    command.Parameters.AddWithValue("payload", RowDigest.Payload(id));
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    if (waitCancelled)
                    {
                        failed++;
                        unreplicated++;
                        Interlocked.Increment(ref _failedWrites);
                        continue;
                    }
                    _acknowledged.Add(id);
                    acked++;
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException
                                           or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    failed++;
                    Interlocked.Increment(ref _failedWrites);
                    if (connection is not null)
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                        connection = null;
                    }
                }
            }
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        var detail = $"{acked} acknowledged on {on ?? "no leader"}, {failed} failed"
                     + (unreplicated > 0 ? $" ({unreplicated} committed locally only: the wait for synchronous replication was cancelled)" : "");
        return failed == 0 ? StepResult.Ok(step, detail) : StepResult.Failed(step, detail);
    }

    private async Task<StepResult> ConsumeAsync(Consume step, CancellationToken cancellationToken)
    {
        if (await FindWritableLeaderAsync(cancellationToken).ConfigureAwait(false) is not { } leader)
        {
            return StepResult.Refused(step, "no writable leader");
        }
        await using var connection = await OpenAsync(leader, cancellationToken, 30).ConfigureAwait(false);
        try
        {
            if (Config.SynchronizedStandbySlots)
            {
                // PostgreSQL 17 makes pg_logical_slot_get_changes on a failover slot wait until every standby in
                // synchronized_standby_slots confirmed the end of WAL; give up as the model does.
                await using var timeout = new NpgsqlCommand($"SET statement_timeout = {Consume.StandbyWaitSeconds * 1000}", connection);
                await timeout.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            int changes;
            await using (var read = new NpgsqlCommand("SELECT count(*)::int FROM pg_logical_slot_get_changes(@slot, NULL, NULL)", connection))
            {
                read.Parameters.AddWithValue("slot", step.SlotName);
                changes = (int)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }
            await using var confirm = new NpgsqlCommand(
                $"SELECT confirmed_flush_lsn, {TimelineSql} FROM pg_replication_slots WHERE slot_name = @slot", connection);
            confirm.Parameters.AddWithValue("slot", step.SlotName);
            await using var reader = await confirm.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return StepResult.Refused(step, $"slot {step.SlotName} vanished on {leader.Name}");
            }
            var position = reader.GetFieldValue<NpgsqlLogSequenceNumber>(0).ToLsn();
            _consumers.Confirmed(new ConsumerPosition(step.SlotName, position, reader.GetInt32(1)));
            return StepResult.Ok(step, $"{changes} changes, confirmed {position} on {leader.Name}");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedObject)
        {
            return StepResult.Refused(step, $"no slot {step.SlotName} on {leader.Name}");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse)
        {
            return StepResult.Refused(step, $"slot {step.SlotName} is in use on {leader.Name}");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled && Config.SynchronizedStandbySlots)
        {
            return StepResult.Refused(step, $"{Consume.StandbyWaitRefusal}: no answer from {leader.Name} within {Consume.StandbyWaitSeconds} s ({e.MessageText})");
        }
    }

    private async Task<StepResult> AdvanceWalAsync(AdvanceWal step, CancellationToken cancellationToken)
    {
        if (await FindWritableLeaderAsync(cancellationToken).ConfigureAwait(false) is not { } leader)
        {
            return StepResult.Refused(step, "no writable leader");
        }
        await using var connection = await OpenAsync(leader, cancellationToken, 60).ConfigureAwait(false);
        Lsn end = Lsn.Zero;
        for (var remaining = Math.Max(step.Bytes, 1); remaining > 0; remaining -= AdvanceChunkBytes)
        {
            await using var command = new NpgsqlCommand("SELECT pg_logical_emit_message(false, 'patroni-model', repeat('x', @n))", connection);
            command.Parameters.AddWithValue("n", (int)Math.Min(remaining, AdvanceChunkBytes));
            end = ((NpgsqlLogSequenceNumber)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!).ToLsn();
        }
        return StepResult.Ok(step, $"{leader.Name} at {end}");
    }

    private async Task<StepResult> CheckpointAsync(Checkpoint step, CancellationToken cancellationToken)
    {
        if (await FindWritableLeaderAsync(cancellationToken).ConfigureAwait(false) is not { } leader)
        {
            return StepResult.Refused(step, "no writable leader");
        }
        await using var connection = await OpenAsync(leader, cancellationToken, 60).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("CHECKPOINT", connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return StepResult.Ok(step, $"on {leader.Name}");
    }

    /// <summary>The current timeline of <paramref name="leader"/> (from its WAL file name).</summary>
    public async Task<int> ReadTimelineAsync(ClusterMember leader, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(leader, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"SELECT {TimelineSql}", connection);
        return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
