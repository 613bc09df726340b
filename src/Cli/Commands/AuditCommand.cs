using System.CommandLine;
using System.Globalization;
using System.Text;
using PatroniModel.Reconciler.Audit;
using PatroniModel.Reconciler.Endpoints;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// <c>patroni-model audit --patroni URL[,URL...] [--json] [--max-retained BYTES]</c>: every logical slot on every member,
/// what protects it and each hazard (README: Operators). Read-only. Exit 0 no hazard, 1 a hazard (or a member that could
/// not be read), 2 bad input or no Patroni REST URL answered.
/// </summary>
public static class AuditCommand
{
    public const string ExitCodeText = "exit codes: 0 no hazard, 1 a hazard or an unreadable member, 2 bad input or no Patroni REST URL answered";

    public static Command Create(Func<string, string?> environment)
    {
        var json = Options.Flag("--json", "one JSON object per slot and member per line (field names in the README, stable)");
        var maxRetained = Options.ByteCount("--max-retained", "flag a slot retaining more WAL than this (e.g. 10GB)", long.MaxValue / 2);
        var connection = new AuditConnection(environment);
        var command = new CommandWithExitCodes("audit",
            "Reports every logical slot on every member: what protects it from Patroni and from a failover, and each hazard. "
            + "Read-only: sessions run with default_transaction_read_only=on; nothing is created or dropped.",
            ExitCodeText)
        {
            json, maxRetained,
        };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(connection.Parse(parse), parse.GetValue(json), parse.GetValue(maxRetained),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken));
        return command;
    }

    /// <summary>Runs <c>audit ARGS</c> as <c>patroni-model</c> would, on these writers and this environment.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Func<string, string?> environment, CancellationToken cancellationToken) =>
        Program.RunAsync(["audit", .. args], output, error, environment, cancellationToken);

    private static async Task<int> RunAsync(PatroniEndpointOptions endpoint, bool json, long? maxRetained, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var audit = new AuditOptions { MaxRetainedBytes = maxRetained };
        using var auditor = new ClusterAuditor(endpoint, audit);
        AuditReport report;
        try
        {
            report = await auditor.AuditAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PatroniUnreachableException e)
        {
            await error.WriteLineAsync($"patroni-model: audit: {e.Message}").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }
        if (json)
        {
            foreach (var record in report.Slots)
            {
                await output.WriteLineAsync(record.ToJson()).ConfigureAwait(false);
            }
        }
        else
        {
            await output.WriteAsync(Table(report)).ConfigureAwait(false);
        }
        return report.HasHazards ? ExitCodes.Failure : ExitCodes.Ok;
    }

    /// <summary>The terminal form: one row per slot and member, then one line per hazard.</summary>
    public static string Table(AuditReport report)
    {
        var rows = new List<string[]> { new[] { "MEMBER", "ROLE", "SLOT", "PLUGIN", "CONFIRMED", "ACTIVE", "WAL", "RETAINED", "LAG", "PROTECTION", "COPIES", "VERDICT" } };
        foreach (var r in report.Slots)
        {
            rows.Add(r.Error is not null
                ? new[] { r.Member, r.Role, "-", "-", "-", "-", "-", "-", "-", "-", "-", "unreachable" }
                : new[]
                {
                    r.Member, r.Role, r.Slot ?? "-", r.Plugin ?? "-", r.ConfirmedFlushLsn ?? "-", r.Active ? "yes" : "no",
                    r.WalStatus ?? "-", Size(r.RetainedBytes), Size(r.LagBytes),
                    Reconciler.Telemetry.ReconcilerTelemetry.MechanismOf(r.Protection) + (r.Failover == true ? " (failover)" : "") + (r.Synced == true ? " (synced)" : ""),
                    r.IsLeader ? $"{r.ReadyCopies}/{r.FailoverCandidates}" : "-",
                    r.Verdict,
                });
        }
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(row => row[i].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }
        if (report.Slots.Count == 0)
        {
            text.AppendLine("(no logical slots on any member)");
        }
        foreach (var r in report.Slots)
        {
            foreach (var h in r.Hazards)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{r.Member} {r.Slot ?? "-"}: {h.Name}: {h.Message}");
            }
        }
        if (report.ConfigError is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"note: {report.ConfigError} (no slot counted as permanent or ignored)");
        }
        var hazards = report.Slots.Sum(r => r.Hazards.Count);
        text.AppendLine(CultureInfo.InvariantCulture,
            $"audit: {report.Slots.Count(r => r.Slot is not null)} slot(s) on {report.Slots.Select(r => r.Member).Distinct().Count()} member(s), leader {report.Leader ?? "none"}, {hazards} hazard(s), {report.Duration.TotalMilliseconds:0} ms");
        return text.ToString();
    }

    private static string Size(long? bytes) => bytes switch
    {
        null => "-",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} kB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.#} GB"),
    };
}
