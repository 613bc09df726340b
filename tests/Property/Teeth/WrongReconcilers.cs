using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;

namespace PatroniModel.Tests.Property.Teeth;

/// <summary>
/// Deliberately wrong reconcilers, plugged in through the <see cref="ISlotReconciler"/> seam to prove the properties have teeth.
/// Each wraps the product's <see cref="SlotReconciler"/> and breaks one rule of the domain.
/// </summary>
public static class WrongReconcilers
{
    /// <summary>Measures the gap from the slot's <c>restart_lsn</c> instead of the consumer's last confirmed LSN (Spice AI issue 12922's trap).</summary>
    public static ISlotReconciler GapFromRestartLsn(IPatroniEndpoint endpoint) => new GapFromRestartLsnReconciler(endpoint);

    /// <summary>Checks existence only: a slot that is there is Found, even when it was re-created past the consumer (patroni issue 1056).</summary>
    public static ISlotReconciler ExistenceOnly(IPatroniEndpoint endpoint) => new ExistenceOnlyReconciler(endpoint);

    /// <summary>
    /// Remembers the leader from its first call: every later call asks Patroni nothing and reconciles on that member, as a
    /// consumer that cached its connection would. Passes every test that builds a new reconciler per call.
    /// </summary>
    public static ISlotReconciler CachedLeader(IPatroniEndpoint endpoint) => new SlotReconciler(new FirstLeaderEndpoint(endpoint));

    /// <summary>
    /// Compares the slot's position with the consumer's as <c>X/Y</c> text: right while both have as many digits, wrong across
    /// a digit boundary (0/FFFFFF8 is "after" 0/10000000), where it misses a gap or reports one that is not there.
    /// </summary>
    public static ISlotReconciler TextOrder(IPatroniEndpoint endpoint) => new TextOrderReconciler(endpoint);

    private sealed class TextOrderReconciler(IPatroniEndpoint endpoint) : ISlotReconciler
    {
        private readonly SlotReconciler inner = new(endpoint);

        public async Task<SlotReport> EnsureSlotAsync(string slot, ConfirmedPosition? lastConfirmed, CancellationToken cancellationToken = default)
        {
            var report = await inner.EnsureSlotAsync(slot, lastConfirmed, cancellationToken);
            if (report.Outcome is SlotOutcome.Diverged or SlotOutcome.Created || report.LastConfirmed is not { } consumer || report.SlotPosition is not { } position)
            {
                return report;
            }
            var textAhead = string.CompareOrdinal(position.ToString(), consumer.Lsn.ToString()) > 0;
            if (textAhead == position > consumer.Lsn)
            {
                return report;
            }
            var created = report.CreatedByReconciler;
            return textAhead
                ? report with { Outcome = created ? SlotOutcome.RecreatedWithGap : SlotOutcome.FoundAhead, Gap = new WalGap(consumer.Lsn, position), DuplicateBytes = 0 }
                : report with { Outcome = created ? SlotOutcome.RecreatedNoGap : SlotOutcome.Found, Gap = null };
        }
    }

    private sealed class FirstLeaderEndpoint(IPatroniEndpoint endpoint) : IPatroniEndpoint
    {
        private PatroniClusterView? first;

        public async Task<PatroniClusterView> GetClusterAsync(CancellationToken cancellationToken = default) =>
            first ??= await endpoint.GetClusterAsync(cancellationToken);

        public Task<PatroniSlotConfig> GetSlotConfigAsync(CancellationToken cancellationToken = default) => endpoint.GetSlotConfigAsync(cancellationToken);

        public Task<ILeaderSession> ConnectAsync(PatroniMember leader, CancellationToken cancellationToken = default) =>
            endpoint.ConnectAsync(leader, cancellationToken);
    }

    private sealed class GapFromRestartLsnReconciler(IPatroniEndpoint endpoint) : ISlotReconciler
    {
        private readonly SlotReconciler inner = new(endpoint);

        public async Task<SlotReport> EnsureSlotAsync(string slot, ConfirmedPosition? lastConfirmed, CancellationToken cancellationToken = default)
        {
            var report = await inner.EnsureSlotAsync(slot, lastConfirmed, cancellationToken);
            if (report.Gap is not { } gap)
            {
                return report;
            }
            var cluster = await endpoint.GetClusterAsync(cancellationToken);
            await using var session = await endpoint.ConnectAsync(cluster.Leader!, cancellationToken);
            var state = await session.FindSlotAsync(slot, cancellationToken);
            if (state?.RestartLsn is not { } restart)
            {
                return report;
            }
            var wrong = WalGap.Between(restart, gap.End);
            return wrong is not null
                ? report with { Gap = wrong }
                : report with
                {
                    Gap = null,
                    Outcome = report.Outcome == SlotOutcome.FoundAhead ? SlotOutcome.Found : SlotOutcome.RecreatedNoGap,
                };
        }
    }

    private sealed class ExistenceOnlyReconciler(IPatroniEndpoint endpoint) : ISlotReconciler
    {
        private readonly SlotReconciler inner = new(endpoint);

        public async Task<SlotReport> EnsureSlotAsync(string slot, ConfirmedPosition? lastConfirmed, CancellationToken cancellationToken = default)
        {
            var report = await inner.EnsureSlotAsync(slot, lastConfirmed, cancellationToken);
            return report.Outcome == SlotOutcome.FoundAhead ? report with { Outcome = SlotOutcome.Found, Gap = null } : report;
        }
    }
}
