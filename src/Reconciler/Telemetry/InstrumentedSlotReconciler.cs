using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;

namespace PatroniModel.Reconciler.Telemetry;

/// <summary>
/// Wraps a reconciler: every report is counted on <see cref="ReconcilerTelemetry"/> and logged through an optional
/// <see cref="ILogger"/> (warning when it is an alarm, information otherwise; the line is <see cref="SlotReport.ToLogLine"/>).
/// </summary>
/// <example><c>var reconciler = new InstrumentedSlotReconciler(new SlotReconciler(endpoint, "pgoutput"), logger);</c></example>
public sealed class InstrumentedSlotReconciler(ISlotReconciler inner, ILogger? logger = null) : ISlotReconciler
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public async Task<SlotReport> EnsureSlotAsync(string slot, ConfirmedPosition? lastConfirmed, CancellationToken cancellationToken = default)
    {
        SlotReport report;
        try
        {
            report = await inner.EnsureSlotAsync(slot, lastConfirmed, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogError("ensure slot {Slot} failed: {Error}", slot, e.Message.ReplaceLineEndings(" "));
            throw;
        }
        ReconcilerTelemetry.RecordReport(report);
        _logger.Log(report.IsAlarm ? LogLevel.Warning : LogLevel.Information, "{Report}", report.ToLogLine());
        return report;
    }
}
