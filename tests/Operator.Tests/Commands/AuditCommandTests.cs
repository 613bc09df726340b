using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using PatroniModel.Cli;
using PatroniModel.Cli.Commands;
using PatroniModel.Tests.OperatorTests.Cluster;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.OperatorTests.Commands;

/// <summary>
/// <c>audit</c> on a real single-member Patroni 3.0.2 + PostgreSQL 15: each hazard it flags, then the failure it predicted
/// made to happen (Patroni drops the unprotected slot; <c>ensure</c> reports the gap), and a slot it calls safe surviving.
/// </summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class AuditCommandTests(LocalPatroniCluster cluster)
{
    private string Rest => cluster.RestUrl.ToString();

    [Fact]
    public async Task Audit_flags_an_unprotected_slot_then_a_permanent_slots_change_drops_it_and_ensure_reports_the_gap()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("unprot");
        var confirmed = await CreateSlotAsync(slot);
        await cluster.MoveWalAsync();

        var audit = await AuditAsync("--json");
        Assert.Equal(ExitCodes.Failure, audit.ExitCode);
        var record = RecordOf(audit, slot);
        Assert.Equal("pg1", record.GetProperty("member").GetString());
        Assert.Equal("leader", record.GetProperty("role").GetString());
        Assert.Equal("none", record.GetProperty("protection").GetString());
        Assert.Equal("hazard", record.GetProperty("verdict").GetString());
        Assert.Equal(["unprotected"], HazardsOf(record));
        Assert.Equal(confirmed.ToString(), record.GetProperty("confirmed_flush_lsn").GetString());
        Assert.Equal("test_decoding", record.GetProperty("plugin").GetString());
        Assert.Equal("reserved", record.GetProperty("wal_status").GetString());
        Assert.True(record.GetProperty("retained_bytes").GetInt64() > 0, audit.ToString());
        Assert.True(record.GetProperty("lag_bytes").GetInt64() > 0, audit.ToString());

        // The predicted loss: a permanent-slots change (for another slot) makes Patroni reload its slots and drop this one.
        var other = cluster.UniqueSlot("perm");
        try
        {
            await cluster.PatchConfigAsync(PermanentSlotsJson(other));
            await cluster.WaitUntilAsync($"Patroni to drop the unprotected slot {slot}", async () => await cluster.ConfirmedFlushAsync(slot) is null, TimeSpan.FromSeconds(30));
            await cluster.WaitUntilAsync($"Patroni to create the permanent slot {other}", async () => await cluster.ConfirmedFlushAsync(other) is not null, TimeSpan.FromSeconds(30));

            var ensure = await EnsureAsync(slot, "--last-confirmed", confirmed.ToString(), "--json");
            Assert.Equal(EnsureExitCodes.Gap, ensure.ExitCode);
            var report = ensure.JsonLines.Single();
            Assert.Equal("RecreatedWithGap", report.GetProperty("outcome").GetString());
            Assert.Equal(confirmed.ToString(), report.GetProperty("gap").GetProperty("start").GetString());
            Assert.True(report.GetProperty("gap").GetProperty("bytes").GetInt64() > 1024, ensure.ToString());
            Assert.True(report.GetProperty("slot_missing").GetBoolean());
        }
        finally
        {
            await ClearPermanentSlotsAsync(other);
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    [Fact]
    public async Task Audit_calls_a_permanent_slot_safe_on_a_single_member_and_it_survives_a_restart_found()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("safe");
        try
        {
            await cluster.PatchConfigAsync(PermanentSlotsJson(slot));
            await cluster.WaitUntilAsync($"Patroni to create the permanent slot {slot}", async () => await cluster.ConfirmedFlushAsync(slot) is not null, TimeSpan.FromSeconds(30));
            var confirmed = (await cluster.ConfirmedFlushAsync(slot))!.Value;

            var audit = await AuditAsync("--json");
            var record = RecordOf(audit, slot);
            Assert.Equal("permanent", record.GetProperty("protection").GetString());
            Assert.Equal("safe", record.GetProperty("verdict").GetString());
            Assert.Empty(HazardsOf(record));
            Assert.Equal(0, record.GetProperty("failover_candidates").GetInt32());

            await cluster.RestartPostgresAsync();
            await cluster.WaitUntilAsync($"the permanent slot {slot} after the restart", async () => await cluster.ConfirmedFlushAsync(slot) is not null, TimeSpan.FromSeconds(30));

            var ensure = await EnsureAsync(slot, "--last-confirmed", confirmed.ToString());
            Assert.True(ensure.ExitCode == EnsureExitCodes.NoAlarm, ensure.ToString());
            Assert.Contains($"slot {slot} on pg1 (timeline 1): found at {confirmed}, no alarm", ensure.Output, StringComparison.Ordinal);
        }
        finally
        {
            await ClearPermanentSlotsAsync(slot);
        }
    }

    [Fact]
    public async Task Audit_flags_an_ignored_slot_as_not_copied_while_it_survives_Patroni_on_the_leader()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("ign");
        var confirmed = await CreateSlotAsync(slot);
        try
        {
            await cluster.PatchConfigAsync($$"""{"ignore_slots": [{"name": "{{slot}}"}]}""");
            var audit = await AuditAsync("--json");
            var record = RecordOf(audit, slot);
            Assert.Equal("ignore_slots", record.GetProperty("protection").GetString());
            Assert.Equal(["ignored_not_copied"], HazardsOf(record));
            Assert.Equal(ExitCodes.Failure, audit.ExitCode);

            // What it survives: Patroni's restart of PostgreSQL (an unprotected slot is dropped by it). What it does not
            // survive, a failover, needs a replica: that half is for the Docker cluster (README: Operators).
            await cluster.RestartPostgresAsync();
            await Task.Delay(TimeSpan.FromSeconds(3));
            var ensure = await EnsureAsync(slot, "--last-confirmed", confirmed.ToString());
            Assert.True(ensure.ExitCode == EnsureExitCodes.NoAlarm, ensure.ToString());
        }
        finally
        {
            await cluster.PatchConfigAsync("""{"ignore_slots": null}""");
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    [Fact]
    public async Task Audit_flags_a_slot_retaining_more_wal_than_max_retained()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("ret");
        await CreateSlotAsync(slot);
        try
        {
            await cluster.MoveWalAsync();
            var audit = await AuditAsync("--json", "--max-retained", "1kB");
            var record = RecordOf(audit, slot);
            Assert.Contains("retains_too_much", HazardsOf(record));
            var loose = await AuditAsync("--json", "--max-retained", "1TB");
            Assert.DoesNotContain("retains_too_much", HazardsOf(RecordOf(loose, slot)));
        }
        finally
        {
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    [Fact]
    public async Task Audit_flags_a_slot_past_max_slot_wal_keep_size_and_its_wal_is_then_lost_for_decoding()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("lost");
        await CreateSlotAsync(slot);
        try
        {
            // ALTER SYSTEM (postgresql.auto.conf) wins over the postgresql.conf Patroni writes; both settings reload without a restart.
            await cluster.ExecuteAsync("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
            await cluster.ExecuteAsync("ALTER SYSTEM SET max_wal_size = '32MB'");
            await cluster.ExecuteAsync("ALTER SYSTEM SET wal_keep_size = 0");
            await cluster.ExecuteAsync("SELECT pg_reload_conf()");
            await cluster.WaitUntilAsync("max_slot_wal_keep_size = 1MB and max_wal_size = 32MB", async () =>
                await cluster.ScalarAsync<string>("SHOW max_slot_wal_keep_size") == "1MB" && await cluster.ScalarAsync<string>("SHOW max_wal_size") == "32MB", TimeSpan.FromSeconds(30));
            // WAL past max_wal_size and max_slot_wal_keep_size behind the slot: unreserved, lost at the next checkpoint.
            for (var i = 0; i < 4; i++)
            {
                await cluster.MoveWalAsync();
            }
            Assert.True(await cluster.ConfirmedFlushAsync(slot) is not null, $"the slot {slot} is gone: {await cluster.ClusterAnswerAsync()}");
            var before = RecordOf(await AuditAsync("--json"), slot);
            Assert.True(HazardsOf(before).Intersect(["wal_unreserved", "wal_lost"]).Any(), before.ToString());

            await cluster.ExecuteAsync("CHECKPOINT");
            var after = RecordOf(await AuditAsync("--json"), slot);
            Assert.Equal("lost", after.GetProperty("wal_status").GetString());
            Assert.Contains("wal_lost", HazardsOf(after));

            // The predicted loss: the slot can no longer decode anything.
            var refused = await Assert.ThrowsAsync<PostgresException>(() => cluster.ExecuteAsync("SELECT count(*) FROM pg_logical_slot_peek_changes($1::name, NULL, NULL)", slot));
            Assert.Contains("can no longer get changes", refused.MessageText, StringComparison.Ordinal);
            // ensure, which compares positions, says so too instead of "found, no alarm".
            var ensure = await EnsureAsync(slot, "--last-confirmed", before.GetProperty("confirmed_flush_lsn").GetString()!);
            Assert.True(ensure.ExitCode == EnsureExitCodes.Unusable, ensure.ToString());
            Assert.Contains("UNUSABLE: wal_status lost", ensure.Output, StringComparison.Ordinal);
        }
        finally
        {
            await cluster.ExecuteAsync("ALTER SYSTEM RESET max_slot_wal_keep_size");
            await cluster.ExecuteAsync("ALTER SYSTEM RESET max_wal_size");
            await cluster.ExecuteAsync("ALTER SYSTEM RESET wal_keep_size");
            await cluster.ExecuteAsync("SELECT pg_reload_conf()");
            await cluster.WaitUntilAsync("max_slot_wal_keep_size back to -1", async () => await cluster.ScalarAsync<string>("SHOW max_slot_wal_keep_size") == "-1", TimeSpan.FromSeconds(30));
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    [Fact]
    public async Task Audit_prints_a_table_with_one_row_per_slot_and_one_line_per_hazard()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("tbl");
        await CreateSlotAsync(slot);
        try
        {
            var audit = await AuditAsync();
            Assert.Equal(ExitCodes.Failure, audit.ExitCode);
            var lines = audit.Output.Split('\n');
            Assert.StartsWith("MEMBER", lines[0], StringComparison.Ordinal);
            Assert.Contains(lines, l => l.StartsWith("pg1", StringComparison.Ordinal) && l.Contains(slot, StringComparison.Ordinal) && l.TrimEnd().EndsWith("hazard", StringComparison.Ordinal));
            Assert.Contains($"pg1 {slot}: unprotected: neither permanent nor in ignore_slots", audit.Output, StringComparison.Ordinal);
            Assert.Matches(@"audit: \d+ slot\(s\) on 1 member\(s\), leader pg1, \d+ hazard\(s\), \d+ ms", audit.Output);
        }
        finally
        {
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    [Fact]
    public async Task Audit_never_writes_its_sessions_are_read_only()
    {
        var before = await cluster.ScalarAsync<long>("SELECT count(*) FROM pg_replication_slots");
        await AuditAsync("--json");
        Assert.Equal(before, await cluster.ScalarAsync<long>("SELECT count(*) FROM pg_replication_slots"));
        var options = new Reconciler.Endpoints.PatroniEndpointOptions { RestUrls = [cluster.RestUrl], ReadOnly = true };
        await using var connection = new NpgsqlConnection(options.ConnectionStringFor("127.0.0.1", cluster.PostgresPort).ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SHOW default_transaction_read_only", connection);
        Assert.Equal("on", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Audit_exits_2_naming_each_url_when_nothing_answers_and_uses_the_next_url_when_one_is_down()
    {
        var closed = $"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}";
        var none = await CommandRun.RunAsync(AuditCommand.RunAsync, null, default, "--patroni", $"{closed},{closed}/x", "--timeout", "2");
        Assert.Equal(ExitCodes.BadInput, none.ExitCode);
        var line = Assert.Single(none.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("patroni-model: audit: no Patroni REST endpoint answered GET /cluster: ", line, StringComparison.Ordinal);
        Assert.Contains($"{closed}/cluster: ", line, StringComparison.Ordinal);
        Assert.Contains($"{closed}/x/cluster: ", line, StringComparison.Ordinal);

        var next = await CommandRun.RunAsync(AuditCommand.RunAsync, null, default, "--patroni", $"{closed},{Rest}", "--json");
        Assert.True(next.ExitCode is ExitCodes.Ok or ExitCodes.Failure, next.ToString());
    }

    [Fact]
    public async Task Audit_reports_a_member_whose_postgres_is_down_as_unreachable()
    {
        // A second Patroni (scope "leaderless", nofailover) lists its member pg9, whose PostgreSQL never starts.
        var url = await cluster.LeaderlessRestUrlAsync();
        var audit = await CommandRun.RunAsync(AuditCommand.RunAsync, null, default, "--patroni", url.ToString(), "--json", "--timeout", "2");
        Assert.Equal(ExitCodes.Failure, audit.ExitCode);
        var record = Assert.Single(audit.JsonLines);
        Assert.Equal("pg9", record.GetProperty("member").GetString());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("slot").ValueKind);
        Assert.Equal(["member_unreachable"], HazardsOf(record));
        Assert.False(string.IsNullOrEmpty(record.GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("--patroni", "ftp://x", "--patroni: 'ftp://x' is not an http:// or https:// URL")]
    [InlineData("--patroni", "http://u:p@h:8008", "--patroni: put no credentials in the URL")]
    [InlineData("--max-retained", "12XB", "--max-retained must be a byte count")]
    [InlineData("--timeout", "0", "--timeout must be a whole number from 1 to 300, got '0'")]
    [InlineData("--password", "x", "unknown option '--password'")]
    [InlineData("--json", "--json", "--json given twice")]
    [InlineData("--sslmode", "sometimes", "--sslmode must be disable, allow, prefer, require, verify-ca or verify-full")]
    public async Task Audit_rejects_bad_input_with_one_line_and_exit_2(string option, string value, string message)
    {
        var args = option == "--patroni" ? new[] { option, value } : ["--patroni", Rest, option, value];
        var result = await CommandRun.RunAsync(AuditCommand.RunAsync, null, default, args);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Audit_help_exits_0_and_names_the_exit_codes()
    {
        var result = await CommandRun.RunAsync(AuditCommand.RunAsync, null, default, "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("exit codes: 0 no hazard, 1 a hazard", result.Output, StringComparison.Ordinal);
    }

    private Task<CommandResult> AuditAsync(params string[] args) =>
        CommandRun.RunAsync(AuditCommand.RunAsync, null, default, ["--patroni", Rest, .. args]);

    private Task<CommandResult> EnsureAsync(string slot, params string[] args) =>
        CommandRun.RunAsync(EnsureCommand.RunAsync, null, default, [slot, "--patroni", Rest, "--plugin", "test_decoding", .. args]);

    private async Task<NpgsqlLogSequenceNumber> CreateSlotAsync(string slot)
    {
        await cluster.ExecuteAsync("SELECT pg_create_logical_replication_slot($1::name, 'test_decoding')", slot);
        return (await cluster.ConfirmedFlushAsync(slot))!.Value;
    }

    /// <summary>
    /// Removes the permanent slots and waits until Patroni has reloaded its slot state (it drops <paramref name="permanent"/>,
    /// no longer permanent), so the reload can't drop a later test's unprotected slot.
    /// </summary>
    private async Task ClearPermanentSlotsAsync(string permanent)
    {
        await cluster.PatchConfigAsync("""{"permanent_slots": null, "slots": null}""");
        await cluster.WaitUntilAsync($"Patroni to drop {permanent}, no longer permanent", async () => await cluster.ConfirmedFlushAsync(permanent) is null, TimeSpan.FromSeconds(30));
    }

    private static string PermanentSlotsJson(string slot) =>
        "{\"permanent_slots\": {\"" + slot + "\": {\"type\": \"logical\", \"database\": \"postgres\", \"plugin\": \"test_decoding\"}}}";

    internal static JsonElement RecordOf(CommandResult audit, string slot) =>
        audit.JsonLines.SingleOrDefault(r => r.GetProperty("slot").ValueKind == JsonValueKind.String && r.GetProperty("slot").GetString() == slot) is { ValueKind: JsonValueKind.Object } record
            ? record
            : throw new Xunit.Sdk.XunitException($"no audit record for slot {slot}: {audit}");

    internal static string[] HazardsOf(JsonElement record) =>
        record.GetProperty("hazards").EnumerateArray().Select(h => h.GetProperty("name").GetString()!).ToArray();
}
