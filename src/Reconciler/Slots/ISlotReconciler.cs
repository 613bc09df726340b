using PatroniModel.Reconciler.Reports;

namespace PatroniModel.Reconciler.Slots;

/// <summary>
/// EnsureSlot as a seam: the product's <see cref="SlotReconciler"/> implements it, and the property suite plugs
/// deliberately wrong implementations in to prove that its properties have teeth.
/// </summary>
public interface ISlotReconciler
{
    Task<SlotReport> EnsureSlotAsync(string slot, ConfirmedPosition? lastConfirmed, CancellationToken cancellationToken = default);
}
