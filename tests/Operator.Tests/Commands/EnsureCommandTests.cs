using NpgsqlTypes;
using PatroniModel.Cli;
using PatroniModel.Cli.Commands;
using PatroniModel.Reconciler.Positions;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Tests.OperatorTests.Cluster;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.OperatorTests.Commands;

/// <summary><c>ensure</c> on the real local Patroni: one exit code per outcome class, <c>--check</c> creates nothing, each position source.</summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class EnsureCommandTests(LocalPatroniCluster cluster)
{
    private string Rest => cluster.RestUrl.ToString();

    [Fact]
    public async Task Check_reports_the_gap_of_a_missing_slot_and_creates_nothing_then_ensure_creates_it()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("chk");
        var last = await cluster.CurrentWalLsnAsync();
        await cluster.MoveWalAsync();
        try
        {
            var check = await EnsureAsync(slot, "--last-confirmed", last.ToString(), "--check");
            Assert.Equal(EnsureExitCodes.Gap, check.ExitCode);
            Assert.Matches($@"^check: slot {slot} on pg1 \(timeline 1\): missing; ensure would re-create it at the current WAL position or later: gap of at least {last}\.\.[0-9A-F]+/[0-9A-F]+ \(\d+ B\); nothing was created", check.Output);
            Assert.Null(await cluster.ConfirmedFlushAsync(slot));

            var ensure = await EnsureAsync(slot, "--last-confirmed", last.ToString(), "--json");
            Assert.Equal(EnsureExitCodes.Gap, ensure.ExitCode);
            Assert.Equal("RecreatedWithGap", ensure.JsonLines.Single().GetProperty("outcome").GetString());
            Assert.NotNull(await cluster.ConfirmedFlushAsync(slot));
        }
        finally
        {
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    [Fact]
    public async Task Each_outcome_class_has_its_exit_code()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("codes");
        try
        {
            // Bootstrap: no consumer position (an empty Debezium offset) creates the slot, no alarm.
            var created = await EnsureAsync(slot, "--debezium-offset", "{}", "--json");
            Assert.Equal(EnsureExitCodes.NoAlarm, created.ExitCode);
            Assert.Equal("Created", created.JsonLines.Single().GetProperty("outcome").GetString());
            var at = (await cluster.ConfirmedFlushAsync(slot))!.Value;

            // Found at the consumer's position, given as a Debezium offset (decimal lsn_commit).
            var found = await EnsureAsync(slot, "--debezium-offset", $$"""{"lsn_proc": {{(ulong)at}}, "lsn_commit": {{(ulong)at}}, "lsn": {{(ulong)at}}, "txId": 1650}""");
            Assert.True(found.ExitCode == EnsureExitCodes.NoAlarm, found.ToString());
            Assert.Contains($"found at {at}, no alarm", found.Output, StringComparison.Ordinal);

            // The slot behind the consumer: duplicates.
            var ahead = await cluster.MoveWalAsync();
            var duplicates = await EnsureAsync(slot, "--last-confirmed", ahead.ToString());
            Assert.True(duplicates.ExitCode == EnsureExitCodes.Duplicates, duplicates.ToString());

            // The slot past the consumer: found ahead, a gap.
            var gap = await EnsureAsync(slot, "--last-confirmed", "0/1000000");
            Assert.True(gap.ExitCode == EnsureExitCodes.Gap, gap.ToString());
            Assert.Contains($"found ahead of the consumer: gap 0/1000000..{at}", gap.Output, StringComparison.Ordinal);

            // A consumer on a timeline the leader never had: diverged.
            var diverged = await EnsureAsync(slot, "--last-confirmed", at.ToString(), "--timeline", "7");
            Assert.True(diverged.ExitCode == EnsureExitCodes.Diverged, diverged.ToString());
        }
        finally
        {
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    [Fact]
    public async Task Ensure_reads_the_position_file_a_FilePositionStore_wrote()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("pos");
        var directory = Directory.CreateTempSubdirectory("patroni-model-positions-").FullName;
        try
        {
            await cluster.ExecuteAsync("SELECT pg_create_logical_replication_slot($1::name, 'test_decoding')", slot);
            var at = (await cluster.ConfirmedFlushAsync(slot))!.Value;
            var store = new FilePositionStore(directory);
            await store.SaveAsync(slot, new ConfirmedPosition(at, 1));
            var ensure = await EnsureAsync(slot, "--position-file", store.PathOf(slot), "--json");
            Assert.True(ensure.ExitCode == EnsureExitCodes.NoAlarm, ensure.ToString());
            var report = ensure.JsonLines.Single();
            Assert.Equal(at.ToString(), report.GetProperty("last_confirmed").GetString());
            Assert.Equal(0, report.GetProperty("exit_code").GetInt32());

            var wrongName = await EnsureAsync(slot, "--position-file", Path.Combine(directory, "other.json"));
            Assert.Equal(EnsureExitCodes.BadInput, wrongName.ExitCode);
            Assert.Contains($"expected a file named {slot}.position.json", wrongName.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    [Fact]
    public async Task Ensure_exits_3_with_one_line_when_no_patroni_answers()
    {
        var closed = $"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}";
        var result = await CommandRun.RunAsync(EnsureCommand.RunAsync, null, default, "s1", "--patroni", closed, "--plugin", "pgoutput", "--last-confirmed", "0/1");
        Assert.Equal(EnsureExitCodes.Unavailable, result.ExitCode);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("patroni-model: ensure s1: no Patroni REST endpoint answered", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--plugin is required")]
    [InlineData("invalid slot name 'Bad-Name'", "Bad-Name")]
    [InlineData("ensure needs the consumer's position", "s1", "--plugin", "pgoutput")]
    [InlineData("give one of --position-file, --last-confirmed, --debezium-offset", "s1", "--plugin", "pgoutput", "--last-confirmed", "0/1", "--debezium-offset", "{}")]
    [InlineData("--last-confirmed must be an LSN X/Y", "s1", "--plugin", "pgoutput", "--last-confirmed", "12")]
    [InlineData("--timeline goes with --last-confirmed", "s1", "--plugin", "pgoutput", "--debezium-offset", "{}", "--timeline", "2")]
    [InlineData("--timeline must be a whole number from 1", "s1", "--plugin", "pgoutput", "--last-confirmed", "0/1", "--timeline", "0")]
    [InlineData("--debezium-offset: lsn_commit must be a decimal LSN", "s1", "--plugin", "pgoutput", "--debezium-offset", "{\"lsn_commit\": \"0/1\"}")]
    [InlineData("--debezium-offset is not a JSON object", "s1", "--plugin", "pgoutput", "--debezium-offset", "{lsn")]
    public async Task Ensure_rejects_bad_input_with_one_line_and_exit_2(string message, params string[] args)
    {
        if (args.Length == 0)
        {
            args = ["s1", "--last-confirmed", "0/1"];
        }
        var result = await CommandRun.RunAsync(EnsureCommand.RunAsync, null, default, [.. args, "--patroni", Rest]);
        Assert.Equal(EnsureExitCodes.BadInput, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Debezium_offset_position_prefers_lsn_commit_then_lsn_proc_then_lsn()
    {
        Assert.Equal(new NpgsqlLogSequenceNumber(300), EnsureCommand.DebeziumPosition("""{"lsn_proc": 200, "lsn_commit": 300, "lsn": 100}""")!.Lsn);
        Assert.Equal(new NpgsqlLogSequenceNumber(200), EnsureCommand.DebeziumPosition("""{"lsn_proc": 200, "lsn": 100}""")!.Lsn);
        Assert.Equal(new NpgsqlLogSequenceNumber(63619219552), EnsureCommand.DebeziumPosition("""{"lsn": 63619219552, "txId": 1650, "ts_usec": 1666268220374889}""")!.Lsn);
        Assert.Null(EnsureCommand.DebeziumPosition("""{"txId": 1}"""));
    }

    private Task<CommandResult> EnsureAsync(string slot, params string[] args) =>
        CommandRun.RunAsync(EnsureCommand.RunAsync, null, default, [slot, "--patroni", Rest, "--plugin", "test_decoding", .. args]);
}
