using System.Text.Json;
using System.Text.Json.Serialization;
using NpgsqlTypes;

namespace PatroniModel.Reconciler.Reports;

/// <summary>What EnsureSlot found and did (the README's "The reconciler" lists the outcomes).</summary>
public enum SlotOutcome
{
    /// <summary>The slot is on the leader at the consumer's position (no alarm) or behind it (duplicates).</summary>
    Found,

    /// <summary>The slot is on the leader past the consumer's position: re-created or advanced; the changes in between are skipped.</summary>
    FoundAhead,

    /// <summary>The slot was missing; re-created past the consumer's position: a WAL gap.</summary>
    RecreatedWithGap,

    /// <summary>The slot was missing; re-created, but WAL had not moved past the consumer's position. Correct, not a failure.</summary>
    RecreatedNoGap,

    /// <summary>No consumer position yet (bootstrap): a fresh slot, no alarm.</summary>
    Created,

    /// <summary>The leader's timeline forked below the consumer's position: the consumer holds changes the new timeline never had.</summary>
    Diverged,
}

/// <summary>Whether Patroni will keep the slot when it reloads its slot state.</summary>
public enum SlotProtection
{
    /// <summary>Declared in Patroni's permanent slots: kept and copied to replicas.</summary>
    Permanent,

    /// <summary>Matched by <c>ignore_slots</c>: Patroni leaves it alone (but does not copy it).</summary>
    Ignored,

    /// <summary>Neither: Patroni drops it as an unknown slot on a config change, a restart or a role change.</summary>
    Unprotected,
}

/// <summary>The consumer's persisted position: its last confirmed LSN and the timeline it was read on (if known).</summary>
public sealed record ConfirmedPosition(NpgsqlLogSequenceNumber Lsn, int? Timeline = null)
{
    public override string ToString() => Timeline is { } tl ? $"{Lsn} (timeline {tl})" : Lsn.ToString();
}

/// <summary>The fork that makes a consumer's position diverge: the consumer's timeline ended at <paramref name="Lsn"/>.</summary>
/// <param name="Lsn">The switch point; null when the consumer's timeline is not an ancestor of the leader's.</param>
public sealed record TimelineFork(NpgsqlLogSequenceNumber? Lsn, int FromTimeline, int ToTimeline);

/// <summary>
/// The result of one EnsureSlot: enough for one log line (<see cref="ToLogLine"/>) and one machine-readable record (<see cref="ToJson"/>).
/// </summary>
public sealed record SlotReport
{
    public required string Slot { get; init; }
    public required SlotOutcome Outcome { get; init; }

    /// <summary>The leader the reconciler found and worked on.</summary>
    public required string Leader { get; init; }

    /// <summary>The leader's timeline.</summary>
    public required int Timeline { get; init; }

    /// <summary>The leader's WAL position when the reconciler looked.</summary>
    public required NpgsqlLogSequenceNumber LeaderLsn { get; init; }

    public ConfirmedPosition? LastConfirmed { get; init; }

    /// <summary>The slot's <c>confirmed_flush_lsn</c> when found, or the new slot's consistent point when created.</summary>
    public NpgsqlLogSequenceNumber? SlotPosition { get; init; }

    /// <summary>The WAL the consumer will never see (recreated with gap, found ahead).</summary>
    public WalGap? Gap { get; init; }

    /// <summary>How far a found slot is behind the consumer: the changes it will see twice (unsigned: the whole 64-bit range).</summary>
    public ulong DuplicateBytes { get; init; }

    /// <summary>Set when diverged: where the consumer's timeline forked.</summary>
    public TimelineFork? Fork { get; init; }

    public required SlotProtection Protection { get; init; }

    /// <summary>The slot is a permanent slot that was missing on the leader (patroni issue 1056: Patroni re-creates it at the current LSN).</summary>
    public bool PermanentSlotWasMissing { get; init; }

    /// <summary>
    /// A PostgreSQL 17 failover slot (<c>pg_replication_slots.failover</c>): standbys running <c>sync_replication_slots</c>
    /// keep synced copies. Patroni up to 4.0 still drops it as unknown unless it is in <c>ignore_slots</c>.
    /// </summary>
    public bool FailoverSlot { get; init; }

    /// <summary>The reconciler created the slot during this call.</summary>
    public bool CreatedByReconciler { get; init; }

    /// <summary>
    /// The consumer's last confirmed LSN is past the leader's end of WAL (<see cref="LeaderLsn"/>: <c>IDENTIFY_SYSTEM</c>'s
    /// flush position, <c>pg_current_wal_flush_lsn()</c> on a primary). No server lets a consumer confirm WAL it has not
    /// flushed, so the consumer read on another timeline or another cluster: the duplicates or the "no gap" measured against
    /// this leader are not real. Always an alarm, whatever the outcome.
    /// </summary>
    public bool ConsumerPastEndOfWal => LastConfirmed is { } last && last.Lsn > LeaderLsn;

    /// <summary>
    /// True when someone must look: a gap, duplicates, a divergence, or a consumer position past the leader's end of WAL. An unprotected slot is not an alarm by itself
    /// (a fresh slot is never one); it is a note in <see cref="ToLogLine"/> and <c>protection</c> in <see cref="ToJson"/>.
    /// </summary>
    public bool IsAlarm =>
        Outcome is SlotOutcome.RecreatedWithGap or SlotOutcome.FoundAhead or SlotOutcome.Diverged
        || DuplicateBytes > 0
        || ConsumerPastEndOfWal;

    /// <summary>The phantom range of a divergence: from the fork to the consumer's last confirmed LSN.</summary>
    public WalGap? Phantoms =>
        Fork?.Lsn is { } fork && LastConfirmed is { } last ? WalGap.Between(fork, last.Lsn) : null;

    /// <summary>One log line: <c>slot s1 on pg2 (timeline 3): gap 0/3000060..0/5000000 (33554336 B); unprotected</c>.</summary>
    public string ToLogLine()
    {
        var what = Outcome switch
        {
            SlotOutcome.Found when DuplicateBytes > 0 =>
                $"found {DuplicateBytes} B behind the consumer at {SlotPosition} (duplicates from {SlotPosition} to {LastConfirmed?.Lsn})",
            SlotOutcome.Found => $"found at {SlotPosition}, no alarm",
            SlotOutcome.FoundAhead => $"found ahead of the consumer: gap {Gap}",
            SlotOutcome.RecreatedWithGap => $"re-created: gap {Gap}",
            SlotOutcome.RecreatedNoGap => $"re-created at {SlotPosition}, no gap (WAL had not moved past {LastConfirmed?.Lsn})",
            SlotOutcome.Created => $"created at {SlotPosition} (no consumer position yet), no alarm",
            SlotOutcome.Diverged => Fork?.Lsn is { } fork
                ? $"diverged: timeline {Fork.FromTimeline} forked at {fork}, phantoms {Phantoms}"
                : $"diverged: the consumer's timeline {Fork?.FromTimeline} is not an ancestor of timeline {Fork?.ToTimeline}",
            _ => Outcome.ToString(),
        };
        var notes = new List<string>();
        if (ConsumerPastEndOfWal)
        {
            notes.Add($"the consumer's position {LastConfirmed?.Lsn} is past the leader's end of WAL {LeaderLsn}: it was confirmed on another timeline or another cluster");
        }
        if (PermanentSlotWasMissing)
        {
            notes.Add("permanent slot was missing on the leader");
        }
        if (FailoverSlot)
        {
            notes.Add(Protection == SlotProtection.Unprotected
                ? "failover slot, but Patroni (4.0 and older) drops it as unknown: add it to ignore_slots so standbys' synced copies survive"
                : "failover slot: standbys running sync_replication_slots keep synced copies");
        }
        if (Protection == SlotProtection.Unprotected && !FailoverSlot)
        {
            notes.Add("unprotected: Patroni drops it on a config change, restart or role change (make it permanent or add it to ignore_slots)");
        }
        var suffix = notes.Count == 0 ? "" : "; " + string.Join("; ", notes);
        return $"slot {Slot} on {Leader} (timeline {Timeline}): {what}{suffix}";
    }

    /// <summary>One JSON object (one line) describing the outcome and the gap, with LSNs printed <c>X/Y</c>.</summary>
    public string ToJson() => JsonSerializer.Serialize(new ReportRecord(
        Slot,
        Outcome.ToString(),
        Leader,
        Timeline,
        LeaderLsn.ToString(),
        LastConfirmed?.Lsn.ToString(),
        LastConfirmed?.Timeline,
        SlotPosition?.ToString(),
        Gap is null ? null : new GapRecord(Gap.Start.ToString(), Gap.End.ToString(), Gap.Bytes),
        DuplicateBytes,
        Fork?.Lsn?.ToString(),
        Phantoms is { } p ? new GapRecord(p.Start.ToString(), p.End.ToString(), p.Bytes) : null,
        Protection.ToString(),
        FailoverSlot,
        PermanentSlotWasMissing,
        ConsumerPastEndOfWal,
        IsAlarm), JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private sealed record GapRecord(string Start, string End, ulong Bytes);

    private sealed record ReportRecord(
        string Slot,
        string Outcome,
        string Leader,
        int Timeline,
        string LeaderLsn,
        string? LastConfirmed,
        int? LastConfirmedTimeline,
        string? SlotPosition,
        GapRecord? Gap,
        ulong DuplicateBytes,
        string? Fork,
        GapRecord? Phantoms,
        string Protection,
        bool FailoverSlot,
        bool PermanentSlotWasMissing,
        bool ConsumerPastEndOfWal,
        bool Alarm);
}
