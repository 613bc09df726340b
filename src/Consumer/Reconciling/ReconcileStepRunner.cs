using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Consumer.Reconciling;

/// <summary>
/// Runs the product's <see cref="SlotReconciler"/> (or any <see cref="ISlotReconciler"/>) for a <c>reconcile</c> step against any <see cref="IPatroniEndpoint"/>
/// (the model's or the real cluster's) and records its report in the vocabulary's terms.
/// </summary>
public static class ReconcileStepRunner
{
    public static async Task<ReconcileObservation> RunAsync(
        ISlotReconciler reconciler, string slot, ConsumerPosition? position, CancellationToken cancellationToken = default)
    {
        var confirmed = position is null ? null : new ConfirmedPosition(position.LastConfirmed.ToNpgsql(), position.Timeline);
        try
        {
            var report = await reconciler.EnsureSlotAsync(slot, confirmed, cancellationToken).ConfigureAwait(false);
            return ToObservation(report);
        }
        catch (Exception e) when (e is PatroniUnreachableException or NoLeaderException or LeaderUnreachableException)
        {
            return new ReconcileObservation(slot, ReconcileOutcome.Error, null, position?.LastConfirmed, null, null, null, 0, 0, null, false, e.Message);
        }
    }

    public static ReconcileObservation ToObservation(SlotReport report) => new(
        report.Slot,
        report.Outcome switch
        {
            SlotOutcome.Found => ReconcileOutcome.Found,
            SlotOutcome.FoundAhead => ReconcileOutcome.FoundAhead,
            SlotOutcome.RecreatedWithGap => ReconcileOutcome.RecreatedWithGap,
            SlotOutcome.RecreatedNoGap => ReconcileOutcome.RecreatedNoGap,
            SlotOutcome.Created => ReconcileOutcome.Created,
            SlotOutcome.Diverged => ReconcileOutcome.Diverged,
            _ => throw new ArgumentOutOfRangeException(nameof(report), report.Outcome, "unknown outcome"),
        },
        report.Leader,
        report.LastConfirmed?.Lsn.ToLsn(),
        report.SlotPosition.ToLsn(),
        report.Gap?.Start.ToLsn(),
        report.Gap?.End.ToLsn(),
        Saturated(report.Gap?.Bytes ?? 0),
        Saturated(report.DuplicateBytes),
        report.Fork?.Lsn.ToLsn(),
        report.Protection == SlotProtection.Unprotected,
        report.ToLogLine());

    /// <summary>
    /// The vocabulary records byte counts as <c>long</c>; the product's are unsigned (the whole 64-bit range). A count of
    /// 2^63 or more is recorded as <see cref="long.MaxValue"/>, never as a negative number.
    /// </summary>
    public static long Saturated(ulong bytes) => bytes > long.MaxValue ? long.MaxValue : (long)bytes;
}
