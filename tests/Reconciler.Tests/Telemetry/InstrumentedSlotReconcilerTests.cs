using NpgsqlTypes;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Reconciler.Telemetry;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Telemetry;

/// <summary>
/// The instrumented reconciler hands back what the reconciler it wraps reported, counts it and logs its line: a warning
/// for an alarm, information otherwise, an error (then the same exception) when the reconciler fails.
/// </summary>
public sealed class InstrumentedSlotReconcilerTests
{
    /// <summary>A reconciler that answers (or throws) what it is given and remembers what it was asked.</summary>
    private sealed class ScriptedReconciler(Func<SlotReport> answer) : ISlotReconciler
    {
        public List<(string Slot, ConfirmedPosition? LastConfirmed)> Calls { get; } = [];

        public Task<SlotReport> EnsureSlotAsync(string slot, ConfirmedPosition? lastConfirmed, CancellationToken cancellationToken = default)
        {
            Calls.Add((slot, lastConfirmed));
            return Task.FromResult(answer());
        }
    }

    [Fact]
    public async Task EnsureSlot_WhenTheReportIsAnAlarm_ReturnsItCountsItAndLogsAWarning()
    {
        // Given a reconciler that reports a gap
        var slot = $"ins_gap_{Guid.NewGuid():N}";
        var report = ReconcilerTelemetryTests.Report(slot, SlotOutcome.RecreatedWithGap) with
        {
            Gap = new WalGap(new NpgsqlLogSequenceNumber(0x100), new NpgsqlLogSequenceNumber(0x200)),
        };
        var inner = new ScriptedReconciler(() => report);
        var logger = new RecordingLogger();
        using var measurements = new ReconcilerTelemetryTests.Measurements(slot);
        var position = new ConfirmedPosition(new NpgsqlLogSequenceNumber(0x100), 1);

        // When
        var returned = await new InstrumentedSlotReconciler(inner, logger).EnsureSlotAsync(slot, position);

        // Then
        Assert.Same(report, returned);
        Assert.Equal([(slot, (ConfirmedPosition?)position)], inner.Calls);
        Assert.Equal([$"Warning {report.ToLogLine()}"], logger.Lines);
        Assert.Equal(["patroni_model.reconciler.gaps", "patroni_model.reconciler.gap_bytes"], measurements.Seen.Select(m => m.Name));
    }

    [Fact]
    public async Task EnsureSlot_WhenTheReportIsNoAlarm_LogsInformation()
    {
        // Given a reconciler that created a fresh slot
        var report = ReconcilerTelemetryTests.Report("fresh", SlotOutcome.Created);
        var logger = new RecordingLogger();

        // When
        await new InstrumentedSlotReconciler(new ScriptedReconciler(() => report), logger).EnsureSlotAsync("fresh", null);

        // Then
        Assert.Equal([$"Information {report.ToLogLine()}"], logger.Lines);
    }

    [Fact]
    public async Task EnsureSlot_WithoutALogger_StillReturnsTheReport()
    {
        // Given no logger
        var report = ReconcilerTelemetryTests.Report("quiet", SlotOutcome.Found);

        // When
        var returned = await new InstrumentedSlotReconciler(new ScriptedReconciler(() => report)).EnsureSlotAsync("quiet", null);

        // Then
        Assert.Same(report, returned);
    }

    [Fact]
    public async Task EnsureSlot_WhenTheReconcilerFails_LogsOneErrorLineAndRethrows()
    {
        // Given a reconciler that fails with a two-line message
        var failure = new InvalidOperationException("leader gone\nsecond line");
        var logger = new RecordingLogger();
        var reconciler = new InstrumentedSlotReconciler(new ScriptedReconciler(() => throw failure), logger);

        // When
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => reconciler.EnsureSlotAsync("s1", null));

        // Then
        Assert.Same(failure, thrown);
        Assert.Equal(["Error ensure slot s1 failed: leader gone second line"], logger.Lines);
    }

    [Fact]
    public async Task EnsureSlot_WhenCancelled_RethrowsWithoutLogging()
    {
        // Given a reconciler that is cancelled
        var logger = new RecordingLogger();
        var reconciler = new InstrumentedSlotReconciler(new ScriptedReconciler(() => throw new OperationCanceledException()), logger);

        // When
        await Assert.ThrowsAsync<OperationCanceledException>(() => reconciler.EnsureSlotAsync("s1", null));

        // Then
        Assert.Empty(logger.Lines);
    }
}
