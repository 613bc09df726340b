using System.CommandLine;
using System.Globalization;
using Prometheus;
using PatroniModel.Reconciler.Audit;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Positions;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Reconciler.Telemetry;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// <c>patroni-model exporter --patroni URL... [--listen 127.0.0.1:9187] [--position-dir DIR] [--max-retained BYTES]</c>:
/// a Prometheus endpoint (<c>/metrics</c>) that audits the cluster on every scrape (prometheus-net, custom registry).
/// </summary>
public static class ExporterCommand
{
    public const string ExitCodeText = "exit codes: 0 stopped by Ctrl-C or SIGTERM, 2 bad input or an address it can't listen on";

    public static Command Create(Func<string, string?> environment)
    {
        var listen = Options.Parsed<(string Host, int Port)?>("--listen", "HOST:PORT", "address to listen on, port 1 to 65535 (default 127.0.0.1:9187)", text => ParseListen(text));
        var positionDir = Options.Text("--position-dir", "DIR",
            "a FilePositionStore folder: each leader slot with a position there is checked (ensure --check, nothing created) and each distinct gap, "
            + "duplicate range or divergence is counted once");
        var maxRetained = Options.ByteCount("--max-retained", "as in audit: flag a slot retaining more WAL than this", long.MaxValue / 2);
        var connection = new AuditConnection(environment);
        var command = new CommandWithExitCodes("exporter",
            "Serves Prometheus metrics on http://LISTEN/metrics; every scrape runs one read-only audit.",
            ExitCodeText)
        {
            listen, positionDir, maxRetained,
        };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(connection.Parse(parse), parse.GetValue(listen) ?? ("127.0.0.1", 9187), parse.GetValue(positionDir),
            parse.GetValue(maxRetained), parse.InvocationConfiguration.Output, cancellationToken));
        return command;
    }

    /// <summary>Runs <c>exporter ARGS</c> as <c>patroni-model</c> would, on these writers and this environment, until <paramref name="cancellationToken"/>.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Func<string, string?> environment, CancellationToken cancellationToken) =>
        Program.RunAsync(["exporter", .. args], output, error, environment, cancellationToken);

    private static async Task<int> RunAsync(PatroniEndpointOptions endpoint, (string Host, int Port) address, string? positionDir, long? maxRetained,
        TextWriter output, CancellationToken cancellationToken)
    {
        var (host, port) = address;
        if (positionDir is not null && !Directory.Exists(positionDir))
        {
            throw new UsageException($"--position-dir: no such directory '{positionDir}'");
        }
        var audit = new AuditOptions { MaxRetainedBytes = maxRetained };
        // Ctrl-C and SIGTERM (kubectl delete) stop it, as does the caller's token.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        try
        {
            return await ServeAsync(endpoint, host, port, positionDir, audit, output, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static async Task<int> ServeAsync(PatroniEndpointOptions endpoint, string host, int port, string? positionDir, AuditOptions audit,
        TextWriter output, CancellationToken cancellationToken)
    {
        using var exporter = new SlotExporter(endpoint, audit, positionDir);
        using var server = new MetricServer(host, port, "metrics/", exporter.Registry);
        try
        {
            server.Start();
        }
        catch (Exception e) when (e is System.Net.HttpListenerException or InvalidOperationException)
        {
            throw new UsageException($"--listen {host}:{port}: can't listen there ({e.Message.ReplaceLineEndings(" ")})");
        }
        await output.WriteLineAsync($"exporter: serving http://{host}:{port}/metrics (an audit per scrape); Ctrl-C stops").ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await server.StopAsync().ConfigureAwait(false);
        await output.WriteLineAsync($"exporter: stopped after {exporter.Scrapes} scrape(s)").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static (string Host, int Port) ParseListen(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new UsageException($"--listen must be HOST:PORT with a port from 1 to 65535, got '{text}'");
        }
        var host = text[..colon].Trim('[', ']');
        return (host, port);
    }
}

/// <summary>The exporter's metrics, refreshed by one audit before each collection.</summary>
public sealed class SlotExporter : IDisposable
{
    private static readonly string[] SlotLabels = ["member", "slot"];
    private readonly ClusterAuditor _auditor;
    private readonly PatroniEndpointOptions _endpoint;
    private readonly string? _positionDir;
    private readonly HashSet<string> _counted = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    private readonly Gauge _up;
    private readonly Gauge _memberUp;
    private readonly Gauge _protected;
    private readonly Gauge _hazard;
    private readonly Gauge _retained;
    private readonly Gauge _lag;
    private readonly Gauge _readyCopies;
    private readonly Gauge _candidates;
    private readonly Gauge _duration;
    private readonly Counter _gaps;
    private readonly Counter _gapBytes;
    private readonly Counter _duplicates;
    private readonly Counter _divergences;
    private readonly Counter _errors;
    private int _scrapes;

    public SlotExporter(PatroniEndpointOptions endpoint, AuditOptions audit, string? positionDir)
    {
        _endpoint = endpoint;
        _positionDir = positionDir;
        _auditor = new ClusterAuditor(endpoint, audit);
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _up = factory.CreateGauge("patroni_audit_up", "1 when a Patroni REST URL answered the last audit, else 0");
        _memberUp = factory.CreateGauge("patroni_member_up", "1 when the member's PostgreSQL was read in the last audit, else 0", "member", "role");
        _protected = factory.CreateGauge("patroni_slot_protected", "1 when Patroni keeps the slot (label mechanism: permanent, ignore_slots, failover_slot), 0 when nothing protects it", "member", "slot", "mechanism");
        _hazard = factory.CreateGauge("patroni_slot_hazard", "1 when the audit flags the hazard for the slot on the member, else 0", "member", "slot", "hazard");
        _retained = factory.CreateGauge("patroni_slot_retained_wal_bytes", "WAL the slot retains on the member (current WAL position minus restart_lsn)", SlotLabels);
        _lag = factory.CreateGauge("patroni_slot_confirmed_lag_bytes", "bytes confirmed_flush_lsn is behind the leader's current WAL position", SlotLabels);
        _readyCopies = factory.CreateGauge("patroni_slot_ready_copies", "failover candidates holding a ready copy of the leader's slot", SlotLabels);
        _candidates = factory.CreateGauge("patroni_slot_failover_candidates", "members Patroni may promote (replicas without nofailover)", SlotLabels);
        _duration = factory.CreateGauge("patroni_audit_duration_seconds", "how long the last audit took");
        _gaps = factory.CreateCounter("patroni_reconciler_gaps_total", "distinct WAL gaps the reconciler reported for the slot (--position-dir)", "slot");
        _gapBytes = factory.CreateCounter("patroni_reconciler_gap_bytes_total", "bytes of WAL in the distinct gaps reported", "slot");
        _duplicates = factory.CreateCounter("patroni_reconciler_duplicates_total", "distinct times the slot was found behind the consumer (duplicates)", "slot");
        _divergences = factory.CreateCounter("patroni_reconciler_divergences_total", "distinct timeline divergences reported for the slot", "slot");
        _errors = factory.CreateCounter("patroni_audit_errors_total", "audits that failed (no Patroni REST URL answered)");
        Registry.AddBeforeCollectCallback(RefreshAsync);
    }

    public CollectorRegistry Registry { get; }

    public int Scrapes => _scrapes;

    /// <summary>Runs one audit (and the position checks) and sets every gauge from it; series no longer seen are removed.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Interlocked.Increment(ref _scrapes);
            AuditReport report;
            try
            {
                report = await _auditor.AuditAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PatroniUnreachableException)
            {
                _up.Set(0);
                _errors.Inc();
                return;
            }
            _up.Set(1);
            _duration.Set(report.Duration.TotalSeconds);
            var seen = new Dictionary<Gauge, HashSet<string>>();
            void Set(Gauge gauge, double value, params string[] labels)
            {
                gauge.WithLabels(labels).Set(value);
                if (!seen.TryGetValue(gauge, out var set))
                {
                    seen[gauge] = set = [];
                }
                set.Add(string.Join('\0', labels));
            }
            foreach (var member in report.Slots.GroupBy(r => (r.Member, r.Role)))
            {
                Set(_memberUp, member.Any(r => r.Error is not null) ? 0 : 1, member.Key.Member, member.Key.Role);
            }
            foreach (var r in report.Slots.Where(r => r.Slot is not null))
            {
                Set(_protected, r.Protection == SlotGuard.None ? 0 : 1, r.Member, r.Slot!, ReconcilerTelemetry.MechanismOf(r.Protection));
                foreach (var kind in Enum.GetValues<HazardKind>().Where(k => k != HazardKind.MemberUnreachable))
                {
                    Set(_hazard, r.Hazards.Any(h => h.Kind == kind) ? 1 : 0, r.Member, r.Slot!, Hazard.NameOf(kind));
                }
                if (r.RetainedBytes is { } retained)
                {
                    Set(_retained, retained, r.Member, r.Slot!);
                }
                if (r.LagBytes is { } lag)
                {
                    Set(_lag, lag, r.Member, r.Slot!);
                }
                if (r.IsLeader)
                {
                    Set(_readyCopies, r.ReadyCopies, r.Member, r.Slot!);
                    Set(_candidates, r.FailoverCandidates, r.Member, r.Slot!);
                }
            }
            foreach (var gauge in new[] { _memberUp, _protected, _hazard, _retained, _lag, _readyCopies, _candidates })
            {
                var keep = seen.GetValueOrDefault(gauge) ?? [];
                foreach (var labels in gauge.GetAllLabelValues().ToList())
                {
                    if (!keep.Contains(string.Join('\0', labels)))
                    {
                        gauge.RemoveLabelled(labels);
                    }
                }
            }
            if (_positionDir is not null)
            {
                await CheckPositionsAsync(report, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task CheckPositionsAsync(AuditReport report, CancellationToken cancellationToken)
    {
        var store = new FilePositionStore(_positionDir!);
        using var real = new PatroniRestEndpoint(_endpoint with { ReadOnly = true });
        foreach (var record in report.Slots.Where(r => r.IsLeader && r.Slot is not null))
        {
            ConfirmedPosition? position;
            try
            {
                position = await store.LoadAsync(record.Slot!, cancellationToken).ConfigureAwait(false);
            }
            catch (PositionStoreCorruptException)
            {
                continue;
            }
            if (position is null)
            {
                continue;
            }
            SlotReport slotReport;
            try
            {
                slotReport = await new SlotReconciler(new CheckOnlyEndpoint(real), record.Plugin ?? "pgoutput", record.Database ?? _endpoint.Database)
                    .EnsureSlotAsync(record.Slot!, position, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is PatroniUnreachableException or NoLeaderException or LeaderUnreachableException or Npgsql.NpgsqlException)
            {
                continue;
            }
            if (slotReport.Gap is { } gap && _counted.Add($"gap {slotReport.Slot} {gap.Start} {gap.End}"))
            {
                _gaps.WithLabels(slotReport.Slot).Inc();
                _gapBytes.WithLabels(slotReport.Slot).Inc(gap.Bytes);
                ReconcilerTelemetry.RecordReport(slotReport);
            }
            if (slotReport.DuplicateBytes > 0 && _counted.Add($"dup {slotReport.Slot} {slotReport.SlotPosition} {position.Lsn}"))
            {
                _duplicates.WithLabels(slotReport.Slot).Inc();
            }
            if (slotReport.Outcome == SlotOutcome.Diverged && _counted.Add($"div {slotReport.Slot} {slotReport.Fork}"))
            {
                _divergences.WithLabels(slotReport.Slot).Inc();
            }
        }
    }

    public void Dispose()
    {
        _auditor.Dispose();
        _gate.Dispose();
    }
}
