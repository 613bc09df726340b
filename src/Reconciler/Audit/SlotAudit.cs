using System.Text.Json;
using System.Text.Json.Serialization;

namespace PatroniModel.Reconciler.Audit;

/// <summary>A named way a logical slot can lose or hold back changes; each has a stable snake_case name in JSON and metrics.</summary>
public enum HazardKind
{
    /// <summary>Neither permanent nor matched by <c>ignore_slots</c>: Patroni drops it on a permanent-slots change, a restart or a role change, and no new leader has it.</summary>
    Unprotected,

    /// <summary>Matched by <c>ignore_slots</c> but not copied: it survives Patroni on this leader and is lost at any failover.</summary>
    IgnoredNotCopied,

    /// <summary>A permanent or failover slot with no ready copy on some failover candidate: a failover to that member re-creates it at the current LSN (a gap).</summary>
    NoReadyCopy,

    /// <summary>A standby's same-name slot with <c>synced = false</c> (PostgreSQL 17): stale when that member leads.</summary>
    StaleStandbySlot,

    /// <summary><c>wal_status</c> is <c>lost</c>: the WAL the slot needs is gone.</summary>
    WalLost,

    /// <summary><c>wal_status</c> is <c>unreserved</c>: past <c>max_slot_wal_keep_size</c>, removed at the next checkpoint.</summary>
    WalUnreserved,

    /// <summary>The slot was invalidated (<c>invalidation_reason</c>, PostgreSQL 17; <c>wal_status = lost</c> before).</summary>
    Invalidated,

    /// <summary>Retains more WAL than the threshold given (<c>--max-retained</c>).</summary>
    RetainsTooMuch,

    /// <summary>A member's PostgreSQL could not be reached: its slots were not audited.</summary>
    MemberUnreachable,
}

/// <summary>One hazard of one slot on one member, with its one-line explanation.</summary>
public sealed record Hazard(HazardKind Kind, string Message)
{
    /// <summary>The stable name used in JSON and metric labels (<c>unprotected</c>, <c>ignored_not_copied</c>, ...).</summary>
    public string Name => NameOf(Kind);

    public static string NameOf(HazardKind kind) => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());
}

/// <summary>What protects a slot from Patroni and from a failover.</summary>
public enum SlotGuard
{
    /// <summary>Declared in Patroni's permanent slots.</summary>
    Permanent,

    /// <summary>Matched by <c>ignore_slots</c>.</summary>
    IgnoreSlots,

    /// <summary>A PostgreSQL 17 failover slot that Patroni leaves alone (matched by <c>ignore_slots</c>) with synced copies on standbys.</summary>
    FailoverSlot,

    /// <summary>Nothing.</summary>
    None,
}

/// <summary>
/// One logical slot on one member, as <c>audit</c> reports it (<c>--json</c>: one object per line, snake_case field names,
/// LSNs as <c>X/Y</c>; the field list is in the README's Operators section and is stable).
/// </summary>
public sealed record SlotAudit
{
    public required string Member { get; init; }

    /// <summary>Patroni's role for the member (<c>leader</c>, <c>replica</c>, <c>sync_standby</c>, ...).</summary>
    public required string Role { get; init; }

    /// <summary>The slot's name; null on a <see cref="HazardKind.MemberUnreachable"/> record.</summary>
    public string? Slot { get; init; }

    public string? Plugin { get; init; }
    public string? Database { get; init; }
    public string? ConfirmedFlushLsn { get; init; }
    public string? RestartLsn { get; init; }
    public bool Active { get; init; }
    public bool Temporary { get; init; }
    public string? WalStatus { get; init; }
    public long? SafeWalSize { get; init; }

    /// <summary>WAL the slot keeps on this member: its current WAL position (replay position on a standby) minus <c>restart_lsn</c>.</summary>
    public long? RetainedBytes { get; init; }

    /// <summary>How far <c>confirmed_flush_lsn</c> is behind the leader's current WAL position.</summary>
    public long? LagBytes { get; init; }

    /// <summary>PostgreSQL 17's <c>failover</c> (null before 17).</summary>
    public bool? Failover { get; init; }

    /// <summary>PostgreSQL 17's <c>synced</c> (null before 17).</summary>
    public bool? Synced { get; init; }

    /// <summary>PostgreSQL 17's <c>invalidation_reason</c>.</summary>
    public string? InvalidationReason { get; init; }

    /// <summary>What protects the slot (on the leader); on a standby the copy's state is in <see cref="Synced"/>.</summary>
    public required SlotGuard Protection { get; init; }

    /// <summary>On the leader: failover candidates holding a ready copy.</summary>
    public int ReadyCopies { get; init; }

    /// <summary>On the leader: the members Patroni may promote (replicas without <c>nofailover</c>).</summary>
    public int FailoverCandidates { get; init; }

    /// <summary>On the leader: the candidates that hold a ready copy, by name.</summary>
    public IReadOnlyList<string> ReadyOn { get; init; } = [];

    public IReadOnlyList<Hazard> Hazards { get; init; } = [];

    /// <summary>Why the member could not be audited (with <see cref="HazardKind.MemberUnreachable"/>).</summary>
    public string? Error { get; init; }

    /// <summary><c>safe</c> when no hazard, else <c>hazard</c>.</summary>
    public string Verdict => Hazards.Count == 0 ? "safe" : "hazard";

    public bool IsLeader => Role is "leader" or "standby_leader" or "master" or "primary";

    /// <summary>One JSON object on one line (the <c>--json</c> format).</summary>
    public string ToJson() => JsonSerializer.Serialize(new Record(
        Member, Role, Slot, Plugin, Database, ConfirmedFlushLsn, RestartLsn, Active, Temporary, WalStatus, SafeWalSize,
        RetainedBytes, LagBytes, Failover, Synced, InvalidationReason,
        JsonNamingPolicy.SnakeCaseLower.ConvertName(Protection.ToString()),
        ReadyCopies, FailoverCandidates, ReadyOn, Verdict,
        Hazards.Select(h => new HazardRecord(h.Name, h.Message)).ToList(), Error), JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private sealed record HazardRecord(string Name, string Message);

    private sealed record Record(
        string Member,
        string Role,
        string? Slot,
        string? Plugin,
        string? Database,
        string? ConfirmedFlushLsn,
        string? RestartLsn,
        bool Active,
        bool Temporary,
        string? WalStatus,
        long? SafeWalSize,
        long? RetainedBytes,
        long? LagBytes,
        bool? Failover,
        bool? Synced,
        string? InvalidationReason,
        string Protection,
        int ReadyCopies,
        int FailoverCandidates,
        IReadOnlyList<string> ReadyOn,
        string Verdict,
        IReadOnlyList<HazardRecord> Hazards,
        string? Error);
}

/// <summary>The whole audit: one record per logical slot per member, and per unreachable member.</summary>
/// <param name="AnsweredBy">The Patroni REST URL that answered <c>GET /cluster</c>.</param>
public sealed record AuditReport(IReadOnlyList<SlotAudit> Slots, string AnsweredBy, string? Leader, TimeSpan Duration)
{
    public bool HasHazards => Slots.Any(s => s.Hazards.Count > 0);

    /// <summary>Why Patroni's dynamic configuration could not be read (then no slot counts as permanent or ignored); null when it was.</summary>
    public string? ConfigError { get; init; }
}
