using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using NpgsqlTypes;
using PatroniModel.Reconciler.Naming;
using PatroniModel.Reconciler.Audit;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Positions;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Reconciler.Telemetry;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// <c>patroni-model ensure SLOT --patroni URL... --plugin P (--position-file F | --last-confirmed X/Y [--timeline N] |
/// --debezium-offset JSON) [--check] [--json]</c>: the reconciler's EnsureSlot as a command, with one exit code per outcome
/// class (<see cref="EnsureExitCodes"/>).
/// </summary>
public static class EnsureCommand
{
    public const string ExitCodeText =
        "exit codes: 0 no alarm (found at the position, created, re-created with no gap), 2 bad input,\n" +
        "            3 the cluster could not be reached or has no leader, 4 gap (changes lost), 5 duplicates (slot behind),\n" +
        "            6 diverged (the consumer holds changes the leader's timeline never had),\n" +
        "            7 the slot exists but can't decode (wal_status lost, or invalidated)";

    public static Command Create(Func<string, string?> environment)
    {
        var slot = new Argument<string?>("SLOT") { Arity = ArgumentArity.ZeroOrOne, Description = "the logical slot: lower-case letters, digits and underscores, 1 to 63 characters" };
        var plugin = Options.Text("--plugin", "PLUGIN",
            "output plugin a missing slot is created with: pgoutput (Debezium, most connectors), wal2json, test_decoding ...; required, there is no default");
        plugin.CompletionSources.Add("pgoutput", "wal2json", "test_decoding");
        var positionFile = Options.Text("--position-file", "FILE", "the consumer's position as FilePositionStore writes it (SLOT.position.json)");
        var lastConfirmed = Options.Text("--last-confirmed", "X/Y", "the consumer's last confirmed LSN (hexadecimal X/Y, e.g. 0/3000060)");
        var timeline = Options.OptionalWholeNumber("--timeline", "N", "the timeline --last-confirmed was read on", 1, int.MaxValue);
        var debeziumOffset = Options.Text("--debezium-offset", "JSON",
            "the value Debezium stores in its offsets topic; lsn_commit, else lsn_proc, else lsn (decimal, 0 to 18446744073709551615) is the position "
            + "Debezium confirms to the slot (none of the three: no consumer position yet, a missing slot is simply created)");
        var check = Options.Flag("--check", "create nothing: report what ensure would do and the gap that already exists");
        var json = Options.Flag("--json", "the report as one JSON object");
        var connection = new AuditConnection(environment);
        var command = new CommandWithExitCodes("ensure",
            "Makes sure the logical slot exists on the Patroni leader and reports what the consumer lost, will see twice, or holds "
            + "that the leader's timeline never had, measured from the consumer's last confirmed position "
            + "(--position-file FILE, --last-confirmed X/Y [--timeline N] or --debezium-offset JSON).",
            ExitCodeText)
        {
            slot, plugin, positionFile, lastConfirmed, timeline, debeziumOffset, check, json,
        };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            var name = parse.GetValue(slot) ?? throw new UsageException("ensure needs the slot name (see patroni-model ensure --help)");
            if (!SlotName.IsValid(name))
            {
                throw new UsageException($"invalid slot name '{(name.Length > 80 ? name[..80] + "..." : name)}': use lower-case letters, digits and underscores, 1 to 63 characters");
            }
            var pluginName = parse.GetValue(plugin) ?? throw new UsageException("--plugin is required (pgoutput for Debezium; test_decoding, wal2json ...): the plugin a missing slot is created with");
            if (!SlotName.IsValid(pluginName))
            {
                throw new UsageException($"--plugin: '{pluginName}' is not a plugin name");
            }
            var endpoint = connection.Parse(parse);
            var position = new PositionArguments(parse.GetValue(positionFile), parse.GetValue(lastConfirmed), parse.GetValue(timeline), parse.GetValue(debeziumOffset));
            return RunAsync(name, pluginName, endpoint, position, parse.GetValue(check), parse.GetValue(json),
                parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken);
        });
        return command;
    }

    /// <summary>Runs <c>ensure ARGS</c> as <c>patroni-model</c> would, on these writers and this environment.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Func<string, string?> environment, CancellationToken cancellationToken) =>
        Program.RunAsync(["ensure", .. args], output, error, environment, cancellationToken);

    /// <summary>The consumer's position as given: one of a file, an LSN (with its timeline) or a Debezium offset.</summary>
    private sealed record PositionArguments(string? File, string? LastConfirmed, int? Timeline, string? DebeziumOffset);

    private static async Task<int> RunAsync(string slot, string plugin, PatroniEndpointOptions endpointOptions, PositionArguments arguments, bool check, bool json,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var position = await PositionAsync(slot, arguments, cancellationToken).ConfigureAwait(false);

        using var real = new PatroniRestEndpoint(check ? endpointOptions with { ReadOnly = true } : endpointOptions);
        var dryRun = check ? new CheckOnlyEndpoint(real) : null;
        var reconciler = new InstrumentedSlotReconciler(new SlotReconciler((IPatroniEndpoint?)dryRun ?? real, plugin, endpointOptions.Database));
        SlotReport report;
        try
        {
            report = await reconciler.EnsureSlotAsync(slot, position, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is PatroniUnreachableException or NoLeaderException or LeaderUnreachableException
                                      or Npgsql.NpgsqlException or InvalidOperationException)
        {
            await error.WriteLineAsync($"patroni-model: ensure {slot}: {e.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
            return EnsureExitCodes.Unavailable;
        }
        var missing = dryRun?.MissingSlots.Contains(slot) ?? false;
        // The reconciler compares positions only; a slot that exists but lost its WAL (or was invalidated) can't decode
        // anything, so ensure reads its state on the leader (read-only) and says so.
        string? unusable = null;
        if (!missing && !report.CreatedByReconciler)
        {
            unusable = await UnusableReasonAsync(endpointOptions, slot, report.Leader, cancellationToken).ConfigureAwait(false);
        }
        if (json)
        {
            var document = JsonNode.Parse(report.ToJson())!.AsObject();
            document["check"] = check;
            document["slot_missing"] = check ? missing : report.CreatedByReconciler;
            document["unusable"] = unusable;
            document["exit_code"] = unusable is null ? ExitCodeOf(report) : EnsureExitCodes.Unusable;
            await output.WriteLineAsync(document.ToJsonString()).ConfigureAwait(false);
        }
        else
        {
            var line = check && missing ? CheckLine(report) : report.ToLogLine();
            await output.WriteLineAsync(unusable is null ? line : $"{line}; UNUSABLE: {unusable}").ConfigureAwait(false);
        }
        return unusable is null ? ExitCodeOf(report) : EnsureExitCodes.Unusable;
    }

    private static async Task<string?> UnusableReasonAsync(PatroniEndpointOptions options, string slot, string leader, CancellationToken cancellationToken)
    {
        try
        {
            using var auditor = new ClusterAuditor(options);
            var audit = await auditor.AuditAsync(cancellationToken).ConfigureAwait(false);
            var record = audit.Slots.FirstOrDefault(s => s.Slot == slot && s.Member == leader);
            var hazard = record?.Hazards.FirstOrDefault(h => h.Kind is HazardKind.WalLost or HazardKind.Invalidated);
            return hazard?.Message;
        }
        catch (PatroniUnreachableException)
        {
            return null;
        }
    }

    /// <summary>The exit code of a report's outcome class.</summary>
    public static int ExitCodeOf(SlotReport report) => report switch
    {
        { Outcome: SlotOutcome.Diverged } => EnsureExitCodes.Diverged,
        { Outcome: SlotOutcome.RecreatedWithGap or SlotOutcome.FoundAhead } => EnsureExitCodes.Gap,
        { DuplicateBytes: > 0 } => EnsureExitCodes.Duplicates,
        _ => EnsureExitCodes.NoAlarm,
    };

    private static string CheckLine(SlotReport report)
    {
        var what = report.Outcome switch
        {
            SlotOutcome.RecreatedWithGap => $"missing; ensure would re-create it at the current WAL position or later: gap of at least {report.Gap}",
            SlotOutcome.RecreatedNoGap => $"missing; ensure would re-create it, with no gap if nothing is written before (WAL at {report.SlotPosition})",
            SlotOutcome.Created => $"missing; ensure would create it at {report.SlotPosition} or later (no consumer position yet), no alarm",
            SlotOutcome.Diverged => $"missing, and the consumer diverged: timeline {report.Fork?.FromTimeline} forked at {report.Fork?.Lsn?.ToString() ?? "an unknown point"}",
            _ => report.Outcome.ToString(),
        };
        return $"check: slot {report.Slot} on {report.Leader} (timeline {report.Timeline}): {what}; nothing was created";
    }

    private static async Task<ConfirmedPosition?> PositionAsync(string slot, PositionArguments arguments, CancellationToken cancellationToken)
    {
        var given = new[] { ("--position-file", arguments.File), ("--last-confirmed", arguments.LastConfirmed), ("--debezium-offset", arguments.DebeziumOffset) }
            .Where(a => a.Item2 is not null).Select(a => a.Item1).ToList();
        if (given.Count > 1)
        {
            throw new UsageException($"give one of --position-file, --last-confirmed, --debezium-offset (got {string.Join(" and ", given)})");
        }
        if (arguments.Timeline is not null && arguments.LastConfirmed is null)
        {
            throw new UsageException("--timeline goes with --last-confirmed");
        }
        if (arguments.LastConfirmed is { } text)
        {
            if (!NpgsqlLogSequenceNumber.TryParse(text, out var lsn))
            {
                throw new UsageException($"--last-confirmed must be an LSN X/Y in hexadecimal (e.g. 0/3000060), got '{text}'");
            }
            return new ConfirmedPosition(lsn, arguments.Timeline);
        }
        if (arguments.DebeziumOffset is { } offset)
        {
            return DebeziumPosition(offset);
        }
        if (arguments.File is { } file)
        {
            var full = Path.GetFullPath(file);
            var expected = slot + ".position.json";
            if (Path.GetFileName(full) != expected)
            {
                throw new UsageException($"--position-file: expected a file named {expected} (FilePositionStore's layout), got '{file}'");
            }
            if (!File.Exists(full))
            {
                throw new UsageException($"--position-file: no such file '{file}'");
            }
            try
            {
                return await new FilePositionStore(Path.GetDirectoryName(full)!).LoadAsync(slot, cancellationToken).ConfigureAwait(false);
            }
            catch (PositionStoreCorruptException e)
            {
                throw new UsageException(e.Message);
            }
        }
        throw new UsageException("ensure needs the consumer's position: --position-file FILE, --last-confirmed X/Y or --debezium-offset JSON");
    }

    /// <summary>
    /// The position in a Debezium PostgreSQL offset (<c>{"lsn_proc":..., "lsn_commit":..., "lsn":..., "txId":..., "ts_usec":...}</c>):
    /// <c>lsn_commit</c>, else <c>lsn_proc</c>, else <c>lsn</c>, as Debezium flushes to the slot; null when none is there.
    /// </summary>
    public static ConfirmedPosition? DebeziumPosition(string json)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new UsageException("--debezium-offset is not a JSON object (expected e.g. {\"lsn_proc\":63619219552,\"lsn_commit\":63619219552,\"lsn\":63619219552})");
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new UsageException("--debezium-offset must be a JSON object");
        }
        foreach (var key in (string[])["lsn_commit", "lsn_proc", "lsn"])
        {
            if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetUInt64(out var lsn))
            {
                throw new UsageException($"--debezium-offset: {key} must be a decimal LSN (a whole number from 0 to {ulong.MaxValue}), got {value.GetRawText()}");
            }
            return new ConfirmedPosition(new NpgsqlLogSequenceNumber(lsn));
        }
        return null;
    }
}

/// <summary><c>ensure</c>'s exit codes, one per outcome class.</summary>
public static class EnsureExitCodes
{
    public const int NoAlarm = 0;
    public const int BadInput = 2;
    public const int Unavailable = 3;
    public const int Gap = 4;
    public const int Duplicates = 5;
    public const int Diverged = 6;

    /// <summary>The slot exists but can't decode: its WAL is lost (<c>wal_status = lost</c>) or it was invalidated.</summary>
    public const int Unusable = 7;
}
