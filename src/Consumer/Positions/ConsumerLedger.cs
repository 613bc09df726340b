using System.Collections.Immutable;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Consumer.Positions;

/// <summary>
/// The CDC consumer's persisted positions, one per slot, and the rules by which they move: a consume records what it
/// confirmed; a created slot or a slot the reconciler left past the consumer (Created, RecreatedWithGap, RecreatedNoGap,
/// FoundAhead) is where it resumes; a persisted position never goes backwards; a <c>reconcile</c> with
/// <c>last_confirmed</c> is a probe that moves nothing. The model's consumer and the real cluster's both keep one.
/// </summary>
public sealed class ConsumerLedger
{
    private readonly SortedDictionary<string, ConsumerPosition> _positions = new(StringComparer.Ordinal);

    /// <summary>Every persisted position, by slot name (ordinal).</summary>
    public ImmutableArray<ConsumerPosition> Positions => [.. _positions.Values];

    /// <summary>The persisted position on <paramref name="slot"/>, or null before the consumer has one.</summary>
    public ConsumerPosition? PositionOf(string slot) => _positions.GetValueOrDefault(slot);

    /// <summary>A consume confirmed <paramref name="position"/>: it is the persisted position, whatever it was before.</summary>
    public void Confirmed(ConsumerPosition position) => _positions[position.Slot] = position;

    /// <summary>Whether persisting <paramref name="lsn"/> on <paramref name="slot"/> would move the position forward (or set a first one).</summary>
    public bool WouldAdvance(string slot, Lsn lsn) =>
        !_positions.TryGetValue(slot, out var persisted) || lsn > persisted.LastConfirmed;

    /// <summary>Persists <paramref name="position"/> when it is past the persisted one (never backwards); true when it moved.</summary>
    public bool Advance(ConsumerPosition position)
    {
        if (!WouldAdvance(position.Slot, position.LastConfirmed))
        {
            return false;
        }
        _positions[position.Slot] = position;
        return true;
    }

    /// <summary>Forgets every position (a reset between scenarios).</summary>
    public void Clear() => _positions.Clear();

    /// <summary>
    /// The position a <c>reconcile</c> step hands the reconciler: the step's own <c>last_confirmed</c> (a probe, read on the
    /// step's timeline, else on the leader's, which <paramref name="leaderTimeline"/> reads), else the persisted one.
    /// </summary>
    public async Task<ConsumerPosition?> PositionForAsync(Reconcile step, Func<Task<int>> leaderTimeline) =>
        step.LastConfirmed is { } given
            ? new ConsumerPosition(step.SlotName, given, step.Timeline ?? await leaderTimeline().ConfigureAwait(false))
            : PositionOf(step.SlotName);

    /// <summary>The same as <see cref="PositionForAsync"/> for a consumer whose persisted position is <paramref name="persisted"/>.</summary>
    public static ConsumerPosition? PositionFor(Reconcile step, ConsumerPosition? persisted, Func<int> leaderTimeline) =>
        step.LastConfirmed is { } given
            ? new ConsumerPosition(step.SlotName, given, step.Timeline ?? leaderTimeline())
            : persisted;

    /// <summary>
    /// The leader whose slot the consumer resumes from after <paramref name="step"/>: after a plain reconcile whose outcome
    /// left a slot the consumer did not confirm (Created, RecreatedWithGap, RecreatedNoGap, FoundAhead), else null (a probe,
    /// Found, Diverged or an error). Whether the position then moves is <see cref="Advance"/>'s rule.
    /// </summary>
    public static string? ResumesOn(Reconcile step, ReconcileObservation observation) =>
        step.LastConfirmed is null
        && observation.Outcome is ReconcileOutcome.Created or ReconcileOutcome.RecreatedWithGap or ReconcileOutcome.RecreatedNoGap or ReconcileOutcome.FoundAhead
            ? observation.Leader
            : null;
}
