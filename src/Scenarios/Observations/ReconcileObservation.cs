using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Scenarios.Observations;

/// <summary>The reconciler's outcome kinds (see the Reconciler's <c>SlotReport</c>), as the vocabulary records them.</summary>
public enum ReconcileOutcome
{
    /// <summary>Slot on the leader at the consumer's position, or behind it (duplicates).</summary>
    Found,

    /// <summary>Slot on the leader past the consumer's position: re-created or advanced, changes skipped.</summary>
    FoundAhead,

    /// <summary>Slot missing, re-created past the consumer's position: a WAL gap.</summary>
    RecreatedWithGap,

    /// <summary>Slot missing, re-created, WAL had not moved past the consumer's position.</summary>
    RecreatedNoGap,

    /// <summary>No consumer position yet: a fresh slot.</summary>
    Created,

    /// <summary>The leader's timeline forked below the consumer's position: phantoms.</summary>
    Diverged,

    /// <summary>The reconciler could not run (no leader, REST unreachable).</summary>
    Error,
}

/// <summary>What one Reconcile step reported, in the vocabulary's terms.</summary>
/// <param name="GapStart">The consumer's last confirmed LSN for a gap.</param>
/// <param name="GapEnd">The new slot's consistent point (or the slot's confirmed_flush_lsn when found ahead).</param>
/// <param name="DuplicateBytes">How far the found slot is behind the consumer.</param>
/// <param name="Fork">The fork LSN when diverged.</param>
/// <param name="Unprotected">The slot is neither permanent nor matched by ignore_slots.</param>
public sealed record ReconcileObservation(
    string Slot,
    ReconcileOutcome Outcome,
    string? Leader,
    Lsn? LastConfirmed,
    Lsn? SlotPosition,
    Lsn? GapStart,
    Lsn? GapEnd,
    long GapBytes,
    long DuplicateBytes,
    Lsn? Fork,
    bool Unprotected,
    string Detail = "")
{
    public override string ToString() => Outcome switch
    {
        ReconcileOutcome.Found when DuplicateBytes > 0 => $"found behind {DuplicateBytes} B (duplicates) on {Leader}{Protection}",
        ReconcileOutcome.Found => $"found on {Leader}{Protection}",
        ReconcileOutcome.FoundAhead => $"found ahead: gap {GapStart}..{GapEnd} ({GapBytes} B) on {Leader}{Protection}",
        ReconcileOutcome.RecreatedWithGap => $"gap {GapStart}..{GapEnd} ({GapBytes} B) on {Leader}{Protection}",
        ReconcileOutcome.RecreatedNoGap => $"recreated, no gap at {SlotPosition} on {Leader}{Protection}",
        ReconcileOutcome.Created => $"created at {SlotPosition} on {Leader}{Protection}",
        ReconcileOutcome.Diverged => $"diverged at {Fork}: phantoms {Fork}..{LastConfirmed} on {Leader}",
        _ => $"error: {Detail}",
    };

    private string Protection => Unprotected ? " (unprotected)" : "";
}
