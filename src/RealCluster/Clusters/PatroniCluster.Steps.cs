using System.Diagnostics;
using System.Text.Json.Nodes;
using Docker.DotNet;
using Docker.DotNet.Models;
using Npgsql;
using NpgsqlTypes;
using PatroniModel.Consumer.Reconciling;
using PatroniModel.RealCluster.Rest;
using PatroniModel.RealCluster.Waiting;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.RealCluster.Clusters;

public sealed partial class PatroniCluster
{
    private const string TimelineSql = "('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int";
    private const int AdvanceChunkBytes = 1 << 20;

    /// <inheritdoc />
    public async Task<StepResult> ApplyAsync(Step step, CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        StepResult result;
        try
        {
            result = step switch
            {
                CreateSlot s => await CreateSlotAsync(s, cancellationToken).ConfigureAwait(false),
                DropSlot s => await DropSlotAsync(s, cancellationToken).ConfigureAwait(false),
                Write s => await WriteAsync(s, cancellationToken).ConfigureAwait(false),
                Consume s => await ConsumeAsync(s, cancellationToken).ConfigureAwait(false),
                AdvanceWal s => await AdvanceWalAsync(s, cancellationToken).ConfigureAwait(false),
                Checkpoint s => await CheckpointAsync(s, cancellationToken).ConfigureAwait(false),
                Switchover s => await SwitchoverAsync(s, cancellationToken).ConfigureAwait(false),
                Failover s => await FailoverAsync(s, cancellationToken).ConfigureAwait(false),
                Kill s => await KillAsync(s, cancellationToken).ConfigureAwait(false),
                Start s => await StartAsync(s, cancellationToken).ConfigureAwait(false),
                Freeze s => await FreezeAsync(s, cancellationToken).ConfigureAwait(false),
                Thaw s => await ThawAsync(s, cancellationToken).ConfigureAwait(false),
                Partition s => await PartitionAsync(s, cancellationToken).ConfigureAwait(false),
                Heal s => await HealAsync(s, cancellationToken).ConfigureAwait(false),
                Restart s => await RestartAsync(s, cancellationToken).ConfigureAwait(false),
                PatchConfig s => await PatchConfigAsync(s, cancellationToken).ConfigureAwait(false),
                Reconcile s => await ReconcileAsync(s, cancellationToken).ConfigureAwait(false),
                Settle s => await SettleStepAsync(s, cancellationToken).ConfigureAwait(false),
                Wait s => await WaitAsync(s, cancellationToken).ConfigureAwait(false),
                _ => throw new ArgumentOutOfRangeException(nameof(step), step, "a step kind the real cluster does not know"),
            };
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or DockerApiException or HttpRequestException
                                   or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            result = StepResult.Failed(step, e.GetBaseException().Message);
        }
        catch (ClusterWaitTimeoutException e)
        {
            result = StepResult.Failed(step, e.Message.Split('\n')[0]);
        }
        if (WritesWal(step) && result.Status != StepStatus.Refused)
        {
            var caughtUp = await CatchUpReplicasAsync(cancellationToken).ConfigureAwait(false);
            Say($"after {step}: {caughtUp}");
        }
        _history.Add(result);
        Say($"{result} ({watch.Elapsed.TotalSeconds:F1}s)");
        return result;
    }

    /// <summary>
    /// The steps that write WAL on the leader (rows, WAL padding, a checkpoint record, a slot's RUNNING_XACTS record),
    /// after which the driver lets streaming replicas catch up (<see cref="CatchUpReplicasAsync"/>) as the model's do.
    /// </summary>
    private static bool WritesWal(Step step) => step is Write or AdvanceWal or Checkpoint or CreateSlot or DropSlot or Reconcile;

    /// <summary>Applies <paramref name="steps"/> in order and returns their results.</summary>
    public async Task<IReadOnlyList<StepResult>> ApplyAllAsync(IEnumerable<Step> steps, CancellationToken cancellationToken = default)
    {
        var results = new List<StepResult>();
        foreach (var step in steps)
        {
            results.Add(await ApplyAsync(step, cancellationToken).ConfigureAwait(false));
        }
        return results;
    }

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
            _consumers[step.SlotName] = new ConsumerPosition(step.SlotName, position, timeline);
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
            _consumers[step.SlotName] = new ConsumerPosition(step.SlotName, position, reader.GetInt32(1));
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
        if (Config.PermanentSlots.Contains(step.SlotName))
        {
            var patched = await PatchAsync(new ConfigPatch { PermanentSlots = Config.PermanentSlots.Remove(step.SlotName) }, cancellationToken).ConfigureAwait(false);
            if (!patched.IsSuccess)
            {
                return StepResult.Refused(step, $"PATCH /config: {patched}");
            }
        }
        // The consumer keeps its persisted position: dropping the slot on the server is what a reconcile must detect (as the model does).
        var dropped = await DropSlotOnAsync(leader, step.SlotName, cancellationToken).ConfigureAwait(false);
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

    private async Task<StepResult> WriteAsync(Write step, CancellationToken cancellationToken)
    {
        var acked = 0;
        var failed = 0;
        NpgsqlConnection? connection = null;
        string? on = null;
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
                        on = leader.Name;
                    }
                    await using var command = new NpgsqlCommand($"INSERT INTO {RowDigest.Table} (id, payload) VALUES (@id, @payload)", connection);
                    command.Parameters.AddWithValue("id", id);
                    command.Parameters.AddWithValue("payload", RowDigest.Payload(id));
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
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
        var detail = $"{acked} acknowledged on {on ?? "no leader"}, {failed} failed";
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
            _consumers[step.SlotName] = new ConsumerPosition(step.SlotName, position, reader.GetInt32(1));
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

    private async Task<StepResult> SwitchoverAsync(Switchover step, CancellationToken cancellationToken)
    {
        if (!Config.HasMember(step.From) || (step.To is not null && !Config.HasMember(step.To)))
        {
            return StepResult.Refused(step, "unknown member");
        }
        var answer = await SendToAnyAsync(uri => _rest.SwitchoverAsync(uri, step.From, step.To, cancellationToken), step.From).ConfigureAwait(false);
        return answer.IsSuccess ? StepResult.Ok(step, answer.Body.Trim()) : StepResult.Refused(step, answer.ToString());
    }

    private async Task<StepResult> FailoverAsync(Failover step, CancellationToken cancellationToken)
    {
        if (!Config.HasMember(step.To))
        {
            return StepResult.Refused(step, "unknown member");
        }
        var answer = await SendToAnyAsync(uri => _rest.FailoverAsync(uri, step.To, cancellationToken), step.To).ConfigureAwait(false);
        return answer.IsSuccess ? StepResult.Ok(step, answer.Body.Trim()) : StepResult.Refused(step, answer.ToString());
    }

    private async Task<StepResult> KillAsync(Kill step, CancellationToken cancellationToken)
    {
        var member = Member(step.Member);
        if (member.IsStopped)
        {
            return StepResult.Refused(step, "already stopped");
        }
        await _docker.Containers.KillContainerAsync(member.ContainerId, new ContainerKillParameters { Signal = "SIGKILL" }, cancellationToken).ConfigureAwait(false);
        member.IsStopped = true;
        member.IsFrozen = false;
        return StepResult.Ok(step);
    }

    private async Task<StepResult> StartAsync(Start step, CancellationToken cancellationToken)
    {
        var member = Member(step.Member);
        if (!member.IsStopped)
        {
            return StepResult.Refused(step, "not stopped");
        }
        await _docker.Containers.StartContainerAsync(member.ContainerId, new ContainerStartParameters(), cancellationToken).ConfigureAwait(false);
        member.IsStopped = false;
        return StepResult.Ok(step);
    }

    private async Task<StepResult> FreezeAsync(Freeze step, CancellationToken cancellationToken)
    {
        var member = Member(step.Member);
        if (member.IsStopped || member.IsFrozen)
        {
            return StepResult.Refused(step, member.IsStopped ? "stopped" : "already frozen");
        }
        await _docker.Containers.PauseContainerAsync(member.ContainerId, cancellationToken).ConfigureAwait(false);
        member.IsFrozen = true;
        return StepResult.Ok(step);
    }

    private async Task<StepResult> ThawAsync(Thaw step, CancellationToken cancellationToken)
    {
        var member = Member(step.Member);
        if (!member.IsFrozen)
        {
            return StepResult.Refused(step, "not frozen");
        }
        await _docker.Containers.UnpauseContainerAsync(member.ContainerId, cancellationToken).ConfigureAwait(false);
        member.IsFrozen = false;
        return StepResult.Ok(step);
    }

    private async Task<StepResult> PartitionAsync(Partition step, CancellationToken cancellationToken)
    {
        var member = Member(step.Member);
        if (member.IsDisconnected)
        {
            return StepResult.Refused(step, "already partitioned");
        }
        await _docker.Networks.DisconnectNetworkAsync(_networkId, new NetworkDisconnectParameters { Container = member.ContainerId, Force = true }, cancellationToken).ConfigureAwait(false);
        member.IsDisconnected = true;
        return StepResult.Ok(step);
    }

    private async Task<StepResult> HealAsync(Heal step, CancellationToken cancellationToken)
    {
        var member = Member(step.Member);
        if (!member.IsDisconnected)
        {
            return StepResult.Refused(step, "not partitioned");
        }
        await _docker.Networks.ConnectNetworkAsync(_networkId, new NetworkConnectParameters
        {
            Container = member.ContainerId,
            EndpointConfig = EndpointSettingsFor(member.Name, member.Address),
        }, cancellationToken).ConfigureAwait(false);
        member.IsDisconnected = false;
        return StepResult.Ok(step);
    }

    private async Task<StepResult> RestartAsync(Restart step, CancellationToken cancellationToken)
    {
        var member = Member(step.Member);
        if (member.State != MemberState.Running)
        {
            return StepResult.Refused(step, member.State.ToString().ToLowerInvariant());
        }
        var answer = await _rest.RestartAsync(member.RestUri, cancellationToken).ConfigureAwait(false);
        return answer.IsSuccess ? StepResult.Ok(step, answer.Body.Trim()) : StepResult.Refused(step, answer.ToString());
    }

    private async Task<StepResult> PatchConfigAsync(PatchConfig step, CancellationToken cancellationToken)
    {
        var answer = await PatchAsync(step.Patch, cancellationToken).ConfigureAwait(false);
        return answer.IsSuccess ? StepResult.Ok(step) : StepResult.Refused(step, answer.ToString());
    }

    /// <summary>
    /// <c>PATCH /config</c> for <paramref name="patch"/>: permanent slots as logical <c>test_decoding</c> slots on
    /// <c>postgres</c> (removed ones set to null, as Patroni's merge needs), <c>ignore_slots</c> as <c>[{"name": s}]</c>.
    /// Updates <see cref="Config"/> when Patroni accepts it.
    /// </summary>
    private async Task<RestAnswer> PatchAsync(ConfigPatch patch, CancellationToken cancellationToken)
    {
        var body = new JsonObject();
        if (patch.Ttl is { } ttl)
        {
            body["ttl"] = ttl;
        }
        if (patch.LoopWait is { } loopWait)
        {
            body["loop_wait"] = loopWait;
        }
        if (patch.RetryTimeout is { } retryTimeout)
        {
            body["retry_timeout"] = retryTimeout;
        }
        if (patch.MaximumLagOnFailover is { } lag)
        {
            body["maximum_lag_on_failover"] = lag;
        }
        if (patch.SynchronousMode is { } mode)
        {
            body["synchronous_mode"] = mode != SynchronousMode.Off;
            body["synchronous_mode_strict"] = mode == SynchronousMode.Strict;
        }
        if (patch.PermanentSlots is { } permanent)
        {
            var slots = new JsonObject();
            foreach (var removed in Config.PermanentSlots.Except(permanent))
            {
                slots[removed] = null;
            }
            foreach (var slot in permanent)
            {
                slots[slot] = new JsonObject { ["type"] = "logical", ["database"] = SlotDefaults.Database, ["plugin"] = SlotDefaults.Plugin };
            }
            body["permanent_slots"] = slots;
        }
        if (patch.IgnoreSlots is { } ignore)
        {
            body["ignore_slots"] = new JsonArray([.. ignore.Select(s => (JsonNode)new JsonObject { ["name"] = s })]);
        }
        var answer = await SendToAnyAsync(uri => _rest.PatchConfigAsync(uri, (JsonObject)body.DeepClone(), cancellationToken), null).ConfigureAwait(false);
        if (answer.IsSuccess)
        {
            Config = Config.Apply(patch);
        }
        return answer;
    }

    private async Task<StepResult> SettleStepAsync(Settle step, CancellationToken cancellationToken)
    {
        try
        {
            var leader = await SettleAsync(null, cancellationToken).ConfigureAwait(false);
            return StepResult.Ok(step, $"leader {leader.Name}");
        }
        catch (ClusterWaitTimeoutException e)
        {
            return StepResult.Failed(step, e.Message.Split('\n')[0]);
        }
    }

    private static async Task<StepResult> WaitAsync(Wait step, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(step.Seconds), cancellationToken).ConfigureAwait(false);
        return StepResult.Ok(step);
    }

    /// <summary>Sends a REST command to <paramref name="preferred"/> first, then to the other running members, until one answers.</summary>
    private async Task<RestAnswer> SendToAnyAsync(Func<Uri, Task<RestAnswer>> send, string? preferred)
    {
        var order = RunningMembers.OrderBy(m => m.Name == preferred ? 0 : 1).ToList();
        RestAnswer? last = null;
        foreach (var member in order)
        {
            last = await send(member.RestUri).ConfigureAwait(false);
            if ((int)last.Status is not 503 || !last.Body.Contains("got no answer", StringComparison.Ordinal))
            {
                return last;
            }
        }
        return last ?? new RestAnswer(System.Net.HttpStatusCode.ServiceUnavailable, "no running member to send to");
    }

    /// <summary>The current timeline of <paramref name="leader"/> (from its WAL file name).</summary>
    public async Task<int> ReadTimelineAsync(ClusterMember leader, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(leader, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"SELECT {TimelineSql}", connection);
        return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
