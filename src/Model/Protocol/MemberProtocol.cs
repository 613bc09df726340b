using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Protocol;

/// <summary>The HA loop's timer (ignored when <paramref name="Generation"/> is stale).</summary>
internal sealed record HaTick(long Generation);

/// <summary>Run an HA cycle now (an etcd watch fired, the configuration changed, a REST call woke the loop).</summary>
internal sealed record WakeUp(string Reason);

/// <summary>
/// What wakes the HA loop after a promotion: Patroni 3.0.2's promote task ending (loop_wait 2 or more), or the CHECKPOINT
/// Patroni issues from a thread after it (rewind.py ensure_checkpoint_after_promote) returning. The loop runs a cycle of
/// the leader of <paramref name="Timeline"/> at once.
/// </summary>
internal sealed record PromoteWake(int Timeline);

/// <summary>The DCS call of a cut-off member gave up after retry_timeout.</summary>
internal sealed record DcsTimedOut(long Generation);

/// <summary>The leader's two seconds after naming a new synchronous standby in synchronous_standby_names are over (ha.py process_sync_replication).</summary>
internal sealed record SyncStandbyNamed(long Generation);

/// <summary>The racer's requests to the other members' REST APIs are answered or timed out (Patroni: fetch_nodes_statuses, timeout 2 s).</summary>
internal sealed record RaceStatusesFetched(long Generation);

/// <summary>Wires a member to its peers, the DCS, the client.</summary>
internal sealed record WireMember(IActorRef Dcs, IActorRef Client, ImmutableDictionary<string, IActorRef> Peers);

/// <summary>Bootstrap: <paramref name="Leader"/> is the initial primary; every other member follows it.</summary>
internal sealed record BootstrapMember(string Leader, long FirstTickDelay);

// Faults the driver applies to the member's container.
internal sealed record KillProcess;
internal sealed record StartProcess;
internal sealed record FreezeProcess;
internal sealed record ThawProcess;
internal sealed record HealMember;
internal sealed record RestartPostgres;

// Replication between members.
internal sealed record StreamRequest(string From, int Timeline, ImmutableArray<TimelineSwitchPoint> History, Lsn End);
internal sealed record StreamAccepted(string Leader, int Timeline, ImmutableArray<TimelineSwitchPoint> History, List<WalRecord> Records);
internal sealed record StreamRefused(string Leader, string Reason, Lsn? RewindTo, int Timeline, ImmutableArray<TimelineSwitchPoint> History);
/// <summary>A WAL record on its way to a replica; it is lost when the sender's connection broke before it arrived (<paramref name="SenderEpoch"/>).</summary>
internal sealed record WalShipment(string From, WalRecord Record, bool WantsAck, int SenderEpoch);
internal sealed record Replayed(string From, Lsn Lsn);
/// <summary>A replica asks the leader for its slots to copy; <paramref name="Bootstrap"/>: the bring-up's copies, ready at once.</summary>
internal sealed record SlotSyncRequest(string From, bool Bootstrap = false);
/// <summary>The leader's slots a replica keeps copies of: Patroni's permanent slots and, on PostgreSQL 17, the failover slots the slotsync worker syncs.</summary>
internal sealed record SlotSyncInfo(string Leader, ImmutableArray<(string Slot, Lsn ConfirmedFlush)> Slots, ImmutableArray<(string Slot, Lsn ConfirmedFlush)> FailoverSlots, bool Bootstrap = false);

/// <summary>The primary asks a new synchronous standby where its replay stands.</summary>
internal sealed record ReportReplay(string Leader);

// Client and consumer requests served by a primary.
internal sealed record InsertRow(long RowId);
internal sealed record RowCommitted(long RowId, Lsn Lsn, int Timeline, string Member);
internal sealed record RowPending(long RowId, string Member);
internal sealed record RowRejected(long RowId, string Member, string Reason);
internal sealed record RowFailed(long RowId, string Member, string Reason);
internal sealed record AppendWal(WalKind Kind, long Bytes);
internal sealed record ConsumeSlot(string Slot);
internal sealed record SlotConsumed(string Slot, Lsn Lsn, int Timeline, string Member);

// Reads and SQL the driver and the reconciler's session send.
/// <summary>Read a member's state; <paramref name="WithRows"/> also copies its rows and computes their digest (observations only).</summary>
internal sealed record InspectMember(bool WithRows)
{
    public static InspectMember Full { get; } = new(true);
    public static InspectMember Status { get; } = new(false);
}
internal sealed record IdentifySystem;
internal sealed record SystemIdentity(int Timeline, Lsn XLogPos, bool InRecovery);
internal sealed record ReadTimelineHistory(int Timeline);
internal sealed record TimelineHistoryAnswer(ImmutableArray<TimelineSwitchPoint> History);
internal sealed record FindSlot(string Slot);
public sealed record SlotRow(string Slot, Lsn ConfirmedFlush, Lsn RestartLsn, bool IsCopy, bool Failover = false);
internal sealed record SlotAnswer(SlotRow? Slot);
internal sealed record CreateLogicalSlot(string Slot, string By);
internal sealed record DropLogicalSlot(string Slot, string Why);

/// <summary>A generic answer: done or refused with a reason.</summary>
/// <param name="WaitingForStandbys">A consume refused only because synchronized_standby_slots still waits for a standby: worth asking again.</param>
/// <summary>A member's answer; <paramref name="Error"/>: an SQL error during the work (the step failed), not a refusal before it.</summary>
internal sealed record MemberAnswer(bool Ok, string Detail, Lsn Lsn = default, bool WaitingForStandbys = false, bool Error = false);

/// <summary>The state of a member, read by the driver: for observations, settle, the invariants and the tests.</summary>
public sealed record MemberInspection(
    string Name,
    bool Running,
    bool Frozen,
    bool Partitioned,
    bool IsLeaderRole,
    bool IsPrimary,
    int Timeline,
    ImmutableArray<TimelineSwitchPoint> History,
    Lsn EndLsn,
    string? Upstream,
    bool Streaming,
    string? SyncStandby,
    ImmutableArray<SlotRow> Slots,
    RowIds Rows,
    string Digest)
{
    /// <summary>On a leader: the members whose key its HA loop has seen and given a physical slot (empty elsewhere).</summary>
    public ImmutableSortedSet<string> PhysicalSlots { get; init; } = [];

    /// <summary>Started and its first HA cycle not yet run: Patroni's asynchronous start ("restarting after failure") is in progress.</summary>
    public bool StartInProgress { get; init; }

    /// <summary>
    /// Demoted by a switchover and its next HA cycle not yet run: Patroni's asynchronous demotion (stop, then start as a
    /// replica) is in progress; its REST status has no WAL position and POST /restart answers 503.
    /// </summary>
    public bool DemoteInProgress { get; init; }

    /// <summary>Patroni 3.0.2's promote task still runs: POST /restart answers 503 "promote already in progress".</summary>
    public bool PromoteInProgress { get; init; }

    /// <summary>Accepts writes right now.</summary>
    public bool Writable => Running && !Frozen && IsPrimary && IsLeaderRole;
}
