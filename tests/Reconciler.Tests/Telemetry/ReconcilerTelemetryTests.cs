using System.Diagnostics.Metrics;
using NpgsqlTypes;
using PatroniModel.Reconciler.Audit;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Telemetry;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Telemetry;

/// <summary>
/// What the meter <c>PatroniModel.Reconciler</c> publishes for a report and for an audit, read with a
/// <see cref="MeterListener"/>. Every measurement carries a slot name no other test uses, so tests running at the same
/// time (an audit of the local cluster) can't be mistaken for these.
/// </summary>
public sealed class ReconcilerTelemetryTests
{
    private static readonly NpgsqlLogSequenceNumber At = new(0x3000060);

    internal static SlotReport Report(string slot, SlotOutcome outcome) => new()
    {
        Slot = slot,
        Outcome = outcome,
        Leader = "pg1",
        Timeline = 1,
        LeaderLsn = new NpgsqlLogSequenceNumber(0x9000000),
        Protection = SlotProtection.Unprotected,
    };

    [Fact]
    public void RecordReport_CountsAGapAndItsBytesPerSlot()
    {
        // Given a report of a 0x2000000-byte gap
        var slot = $"tel_gap_{Guid.NewGuid():N}";
        var report = Report(slot, SlotOutcome.RecreatedWithGap) with { Gap = new WalGap(At, new NpgsqlLogSequenceNumber(0x5000060)) };
        using var measurements = new Measurements(slot);

        // When
        ReconcilerTelemetry.RecordReport(report);

        // Then
        Assert.Equal(
            [("patroni_model.reconciler.gaps", 1L, $"slot={slot}"), ("patroni_model.reconciler.gap_bytes", 0x2000000L, $"slot={slot}")],
            measurements.Seen);
    }

    [Fact]
    public void RecordReport_AGapOf2To63BytesOrMore_CountsLongMaxValueBytes()
    {
        // Given the largest gap there is
        var slot = $"tel_huge_{Guid.NewGuid():N}";
        var report = Report(slot, SlotOutcome.FoundAhead) with { Gap = new WalGap(new NpgsqlLogSequenceNumber(0), new NpgsqlLogSequenceNumber(ulong.MaxValue)) };
        using var measurements = new Measurements(slot);

        // When
        ReconcilerTelemetry.RecordReport(report);

        // Then
        Assert.Equal(long.MaxValue, Assert.Single(measurements.Seen, m => m.Name == "patroni_model.reconciler.gap_bytes").Value);
    }

    [Fact]
    public void RecordReport_CountsDuplicatesAndDivergencesButNothingForAFoundSlotWithoutAlarm()
    {
        // Given a slot behind the consumer, a divergence, and a slot found at the consumer's position
        var behind = $"tel_dup_{Guid.NewGuid():N}";
        var diverged = $"tel_div_{Guid.NewGuid():N}";
        var quiet = $"tel_ok_{Guid.NewGuid():N}";
        using var measurements = new Measurements(behind, diverged, quiet);

        // When
        ReconcilerTelemetry.RecordReport(Report(behind, SlotOutcome.Found) with { DuplicateBytes = 1 });
        ReconcilerTelemetry.RecordReport(Report(diverged, SlotOutcome.Diverged));
        ReconcilerTelemetry.RecordReport(Report(quiet, SlotOutcome.Found));

        // Then
        Assert.Equal(
            [("patroni_model.reconciler.duplicates", 1L, $"slot={behind}"), ("patroni_model.reconciler.divergences", 1L, $"slot={diverged}")],
            measurements.Seen);
    }

    [Fact]
    public void RecordAudit_PublishesEachSlotsRetainedWalLagProtectionAndEveryHazardGauge()
    {
        // Given an audit with a permanent slot without a ready copy, an unprotected slot without positions, and an
        // unreachable member (no slot: no gauges)
        var permanent = $"tel_perm_{Guid.NewGuid():N}";
        var bare = $"tel_bare_{Guid.NewGuid():N}";
        var report = new AuditReport(
            [
                new SlotAudit
                {
                    Member = "pg1", Role = "leader", Slot = permanent, Protection = SlotGuard.Permanent, RetainedBytes = 4096, LagBytes = 56,
                    Hazards = [new Hazard(HazardKind.NoReadyCopy, "no ready copy on pg2")],
                },
                new SlotAudit { Member = "pg2", Role = "replica", Slot = bare, Protection = SlotGuard.None },
                new SlotAudit
                {
                    Member = "pg3", Role = "replica", Protection = SlotGuard.None, Error = "closed",
                    Hazards = [new Hazard(HazardKind.MemberUnreachable, "closed")],
                },
            ],
            "http://stub/", "pg1", TimeSpan.FromMilliseconds(1250));
        using var measurements = new Measurements(permanent, bare);

        // When
        ReconcilerTelemetry.RecordAudit(report);

        // Then
        var hazards = new[] { "unprotected", "ignored_not_copied", "no_ready_copy", "stale_standby_slot", "wal_lost", "wal_unreserved", "invalidated", "retains_too_much" };
        var expected = new List<(string, long, string)>
        {
            ("patroni_model.slot.retained_wal", 4096, $"member=pg1,slot={permanent}"),
            ("patroni_model.slot.confirmed_lag", 56, $"member=pg1,slot={permanent}"),
            ("patroni_model.slot.protected", 1, $"member=pg1,slot={permanent},mechanism=permanent"),
        };
        expected.AddRange(hazards.Select(h => ("patroni_model.slot.hazard", h == "no_ready_copy" ? 1L : 0L, $"member=pg1,slot={permanent},hazard={h}")));
        expected.Add(("patroni_model.slot.protected", 0, $"member=pg2,slot={bare},mechanism=none"));
        expected.AddRange(hazards.Select(h => ("patroni_model.slot.hazard", 0L, $"member=pg2,slot={bare},hazard={h}")));
        Assert.Equal(expected, measurements.Seen);
        Assert.Contains(1.25, measurements.Durations);
    }

    [Theory]
    [InlineData(SlotGuard.Permanent, "permanent")]
    [InlineData(SlotGuard.IgnoreSlots, "ignore_slots")]
    [InlineData(SlotGuard.FailoverSlot, "failover_slot")]
    [InlineData(SlotGuard.None, "none")]
    public void MechanismOf_IsTheGuardsStableSnakeCaseName(SlotGuard guard, string expected)
    {
        // Given a guard / When / Then
        Assert.Equal(expected, ReconcilerTelemetry.MechanismOf(guard));
    }

    [Fact]
    public void Record_WithoutAReport_IsRefused()
    {
        // Given / When / Then
        Assert.Equal("report", Assert.Throws<ArgumentNullException>(() => ReconcilerTelemetry.RecordReport(null!)).ParamName);
        Assert.Equal("report", Assert.Throws<ArgumentNullException>(() => ReconcilerTelemetry.RecordAudit(null!)).ParamName);
    }

    [Fact]
    public void Instruments_AreOnTheReconcilersMeterWithTheirUnits()
    {
        // Given / When / Then
        Assert.Equal("PatroniModel.Reconciler", ReconcilerTelemetry.MeterName);
        Assert.Equal(ReconcilerTelemetry.MeterName, ReconcilerTelemetry.Gaps.Meter.Name);
        Assert.Equal(
            [
                ("patroni_model.reconciler.gaps", "{gap}", "WAL gaps reported (re-created with gap, found ahead)"),
                ("patroni_model.reconciler.gap_bytes", "By", "bytes of WAL in the gaps reported"),
                ("patroni_model.reconciler.duplicates", "{report}", "slots found behind the consumer (duplicates)"),
                ("patroni_model.reconciler.divergences", "{divergence}", "timeline divergences reported (phantoms)"),
                ("patroni_model.slot.retained_wal", "By", "WAL a slot retains on a member"),
                ("patroni_model.slot.confirmed_lag", "By", "confirmed_flush_lsn behind the leader's WAL position"),
                ("patroni_model.slot.protected", "{bool}", "1 when Patroni keeps the slot (tag mechanism)"),
                ("patroni_model.slot.hazard", "{bool}", "1 when the audit flags the hazard (tag hazard)"),
                ("patroni_model.audit.duration", "s", "time one audit took"),
            ],
            new Instrument[]
            {
                ReconcilerTelemetry.Gaps, ReconcilerTelemetry.GapBytes, ReconcilerTelemetry.Duplicates, ReconcilerTelemetry.Divergences,
                ReconcilerTelemetry.RetainedBytes, ReconcilerTelemetry.LagBytes, ReconcilerTelemetry.Protected, ReconcilerTelemetry.HazardGauge,
                ReconcilerTelemetry.AuditDuration,
            }.Select(i => (i.Name, i.Unit, i.Description)));
    }

    /// <summary>
    /// Listens to the reconciler's meter and keeps the measurements whose <c>slot</c> tag is one of the given slots, as
    /// (instrument, value, tags as <c>k=v,...</c>), in the order they were recorded; and every audit duration.
    /// </summary>
    internal sealed class Measurements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly HashSet<string> _slots;
        private readonly List<(string Name, long Value, string Tags)> _seen = [];
        private readonly List<double> _durations = [];

        public Measurements(params string[] slots)
        {
            _slots = [.. slots];
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ReconcilerTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Keep(i, v, tags));
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Keep(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, _, _) =>
            {
                lock (_durations)
                {
                    _durations.Add(v);
                }
            });
            _listener.Start();
        }

        public IReadOnlyList<(string Name, long Value, string Tags)> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public IReadOnlyList<double> Durations
        {
            get
            {
                lock (_durations)
                {
                    return [.. _durations];
                }
            }
        }

        private void Keep(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var list = tags.ToArray();
            if (!list.Any(t => t.Key == "slot" && t.Value is string s && _slots.Contains(s)))
            {
                return;
            }
            lock (_seen)
            {
                _seen.Add((instrument.Name, value, string.Join(",", list.Select(t => $"{t.Key}={t.Value}"))));
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
