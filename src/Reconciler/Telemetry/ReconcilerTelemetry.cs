using System.Diagnostics.Metrics;
using PatroniModel.Reconciler.Audit;
using PatroniModel.Reconciler.Reports;

namespace PatroniModel.Reconciler.Telemetry;

/// <summary>
/// The reconciler's figures on <see cref="System.Diagnostics.Metrics"/>, meter <c>PatroniModel.Reconciler</c>, so a .NET
/// user's own OpenTelemetry (<c>AddMeter("PatroniModel.Reconciler")</c>) or <c>dotnet-counters</c> picks them up:
/// counters of gaps, duplicates and divergences reported (tag <c>slot</c>), and after each audit per slot and member the
/// gauges of retained WAL, lag, protection and hazards (tags <c>member</c>, <c>slot</c>, <c>mechanism</c>, <c>hazard</c>).
/// </summary>
public static class ReconcilerTelemetry
{
    public const string MeterName = "PatroniModel.Reconciler";

    private static readonly Meter Meter = new(MeterName, typeof(ReconcilerTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Counter<long> Gaps = Meter.CreateCounter<long>("patroni_model.reconciler.gaps", "{gap}", "WAL gaps reported (re-created with gap, found ahead)");
    public static readonly Counter<long> GapBytes = Meter.CreateCounter<long>("patroni_model.reconciler.gap_bytes", "By", "bytes of WAL in the gaps reported");
    public static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("patroni_model.reconciler.duplicates", "{report}", "slots found behind the consumer (duplicates)");
    public static readonly Counter<long> Divergences = Meter.CreateCounter<long>("patroni_model.reconciler.divergences", "{divergence}", "timeline divergences reported (phantoms)");
    public static readonly Gauge<long> RetainedBytes = Meter.CreateGauge<long>("patroni_model.slot.retained_wal", "By", "WAL a slot retains on a member");
    public static readonly Gauge<long> LagBytes = Meter.CreateGauge<long>("patroni_model.slot.confirmed_lag", "By", "confirmed_flush_lsn behind the leader's WAL position");
    public static readonly Gauge<int> Protected = Meter.CreateGauge<int>("patroni_model.slot.protected", "{bool}", "1 when Patroni keeps the slot (tag mechanism)");
    public static readonly Gauge<int> HazardGauge = Meter.CreateGauge<int>("patroni_model.slot.hazard", "{bool}", "1 when the audit flags the hazard (tag hazard)");
    public static readonly Histogram<double> AuditDuration = Meter.CreateHistogram<double>("patroni_model.audit.duration", "s", "time one audit took");

    /// <summary>Counts what one EnsureSlot reported.</summary>
    public static void RecordReport(SlotReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var slot = new KeyValuePair<string, object?>("slot", report.Slot);
        if (report.Gap is { } gap)
        {
            Gaps.Add(1, slot);
            GapBytes.Add((long)Math.Min(gap.Bytes, long.MaxValue), slot);
        }
        if (report.DuplicateBytes > 0)
        {
            Duplicates.Add(1, slot);
        }
        if (report.Outcome == SlotOutcome.Diverged)
        {
            Divergences.Add(1, slot);
        }
    }

    /// <summary>Publishes one audit's per-slot gauges.</summary>
    public static void RecordAudit(AuditReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        AuditDuration.Record(report.Duration.TotalSeconds);
        foreach (var record in report.Slots.Where(r => r.Slot is not null))
        {
            var member = new KeyValuePair<string, object?>("member", record.Member);
            var slot = new KeyValuePair<string, object?>("slot", record.Slot);
            if (record.RetainedBytes is { } retained)
            {
                RetainedBytes.Record(retained, member, slot);
            }
            if (record.LagBytes is { } lag)
            {
                LagBytes.Record(lag, member, slot);
            }
            Protected.Record(record.Protection == SlotGuard.None ? 0 : 1, member, slot,
                new KeyValuePair<string, object?>("mechanism", MechanismOf(record.Protection)));
            foreach (var kind in Enum.GetValues<HazardKind>().Where(k => k != HazardKind.MemberUnreachable))
            {
                HazardGauge.Record(record.Hazards.Any(h => h.Kind == kind) ? 1 : 0, member, slot,
                    new KeyValuePair<string, object?>("hazard", Hazard.NameOf(kind)));
            }
        }
    }

    /// <summary>The stable name of a protection mechanism (<c>permanent</c>, <c>ignore_slots</c>, <c>failover_slot</c>, <c>none</c>).</summary>
    public static string MechanismOf(SlotGuard guard) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(guard.ToString());
}
