using NpgsqlTypes;

namespace PatroniModel.Reconciler.Endpoints;

/// <summary>
/// What the reconciler needs from a Patroni cluster: its REST view (<c>GET /cluster</c>, <c>GET /config</c>) and a
/// session on the leader's PostgreSQL. The real implementation is <c>PatroniRestEndpoint</c> (HTTP + Npgsql);
/// the Akka.NET model serves the same interface, so the same reconciler code runs against both.
/// </summary>
public interface IPatroniEndpoint
{
    /// <summary><c>GET /cluster</c> from any member that answers. Throws <see cref="PatroniUnreachableException"/> when none does.</summary>
    Task<PatroniClusterView> GetClusterAsync(CancellationToken cancellationToken = default);

    /// <summary>The slot part of Patroni's dynamic configuration (<c>GET /config</c>: <c>permanent_slots</c> or <c>slots</c>, <c>ignore_slots</c>).</summary>
    Task<PatroniSlotConfig> GetSlotConfigAsync(CancellationToken cancellationToken = default);

    /// <summary>Opens a session on the given member's PostgreSQL (the leader the caller just discovered).</summary>
    Task<ILeaderSession> ConnectAsync(PatroniMember leader, CancellationToken cancellationToken = default);
}

/// <summary>A session on the leader's PostgreSQL, opened for one reconciliation and disposed after it.</summary>
public interface ILeaderSession : IAsyncDisposable
{
    /// <summary><c>IDENTIFY_SYSTEM</c>: the server's current timeline and WAL position.</summary>
    Task<LeaderIdentity> IdentifySystemAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// <c>TIMELINE_HISTORY</c> of <paramref name="timeline"/>: one entry per ancestor timeline with the LSN where it ended.
    /// Empty for timeline 1.
    /// </summary>
    Task<IReadOnlyList<TimelineSwitch>> TimelineHistoryAsync(int timeline, CancellationToken cancellationToken = default);

    /// <summary>The slot's row in <c>pg_replication_slots</c>, or null when the slot does not exist.</summary>
    Task<SlotState?> FindSlotAsync(string slot, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a logical slot and returns its consistent point; on PostgreSQL 17 and later a failover slot
    /// (<c>failover =&gt; true</c>), so standbys running <c>sync_replication_slots</c> keep it across a failover.
    /// Throws <see cref="SlotAlreadyExistsException"/> when it exists.
    /// </summary>
    Task<NpgsqlLogSequenceNumber> CreateLogicalSlotAsync(string slot, string plugin, CancellationToken cancellationToken = default);
}

/// <summary>A member as <c>GET /cluster</c> lists it.</summary>
/// <param name="Role">Patroni's role string: <c>leader</c>, <c>standby_leader</c>, <c>replica</c>, <c>sync_standby</c>.</param>
/// <param name="State">Patroni's state string: <c>running</c>, <c>streaming</c>, <c>stopped</c>, ...</param>
public sealed record PatroniMember(string Name, string Role, string State, string Host, int Port, int? Timeline)
{
    public bool IsLeader => Role is "leader" or "standby_leader" or "master" or "primary";
}

/// <summary>Patroni's <c>GET /cluster</c> answer.</summary>
/// <param name="AnsweredBy">Which REST endpoint answered, for error messages.</param>
public sealed record PatroniClusterView(IReadOnlyList<PatroniMember> Members, string AnsweredBy)
{
    public PatroniMember? Leader => Members.FirstOrDefault(m => m.IsLeader);

    public override string ToString() =>
        Members.Count == 0
            ? $"no members (answered by {AnsweredBy})"
            : string.Join(", ", Members.Select(m => $"{m.Name} {m.Role}/{m.State}")) + $" (answered by {AnsweredBy})";
}

/// <summary>
/// One <c>ignore_slots</c> entry: a slot matches when every attribute that is set matches (Patroni docs:
/// dynamic_configuration; code: <c>SlotsHandler.ignore_replication_slot</c>). As in Patroni, a null name is unset (an empty
/// name is a name, which no slot has), and a null or empty type, database or plugin is unset. Comparisons are exact (ordinal).
/// </summary>
public sealed record IgnoreSlotRule(string? Name = null, string? Type = null, string? Database = null, string? Plugin = null)
{
    /// <summary>
    /// Prefix of a field that can never match: a rule value Patroni compares with a string but that is not one (a number, a
    /// list). No slot name, type, database or plugin contains NUL.
    /// </summary>
    public const string Unmatchable = "\0";

    public bool Matches(string slot, string type, string? database, string? plugin) =>
        (Name is null || Name == slot)
        && (string.IsNullOrEmpty(Type) || Type == type)
        && (string.IsNullOrEmpty(Database) || Database == database)
        && (string.IsNullOrEmpty(Plugin) || Plugin == plugin);
}

/// <summary>The slot part of Patroni's dynamic configuration.</summary>
public sealed record PatroniSlotConfig(IReadOnlyList<string> PermanentSlots, IReadOnlyList<IgnoreSlotRule> IgnoreSlots)
{
    public static PatroniSlotConfig Empty { get; } = new([], []);
}

/// <summary><c>IDENTIFY_SYSTEM</c>'s answer.</summary>
public sealed record LeaderIdentity(string SystemId, int Timeline, NpgsqlLogSequenceNumber XLogPos);

/// <summary>One line of a timeline history file: <paramref name="Timeline"/> ended at <paramref name="SwitchPoint"/>.</summary>
public sealed record TimelineSwitch(int Timeline, NpgsqlLogSequenceNumber SwitchPoint);

/// <summary>A row of <c>pg_replication_slots</c>.</summary>
/// <param name="Failover">PostgreSQL 17's <c>failover</c> column (false before 17): the standbys' slotsync workers keep synced copies.</param>
public sealed record SlotState(
    string Name,
    string SlotType,
    string? Plugin,
    string? Database,
    bool Active,
    NpgsqlLogSequenceNumber? RestartLsn,
    NpgsqlLogSequenceNumber? ConfirmedFlushLsn,
    bool Failover = false);
