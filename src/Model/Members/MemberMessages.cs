using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Members;

/// <summary>The HA loop's timer (ignored when <paramref name="Generation"/> is stale).</summary>
public sealed record HaTick(long Generation);

/// <summary>Run an HA cycle now (an etcd watch fired, the configuration changed, a REST call woke the loop).</summary>
public sealed record WakeUp(string Reason);

/// <summary>The DCS call of a cut-off member gave up after retry_timeout.</summary>
public sealed record DcsTimedOut(long Generation);

/// <summary>Wires a member to its peers, the DCS, the client.</summary>
public sealed record WireMember(IActorRef Dcs, IActorRef Client, ImmutableDictionary<string, IActorRef> Peers);

/// <summary>Bootstrap: <paramref name="Leader"/> is the initial primary; every other member follows it.</summary>
public sealed record BootstrapMember(string Leader, long FirstTickDelay);

// Faults the driver applies to the member's container.
public sealed record KillProcess;
public sealed record StartProcess;
public sealed record FreezeProcess;
public sealed record ThawProcess;
public sealed record HealMember;
public sealed record RestartPostgres;

// Replication between members.
public sealed record StreamRequest(string From, int Timeline, ImmutableArray<TimelineEnd> History, Lsn End);
public sealed record StreamAccepted(string Leader, int Timeline, ImmutableArray<TimelineEnd> History, List<WalRecord> Records);
public sealed record StreamRefused(string Leader, string Reason, Lsn? RewindTo, int Timeline, ImmutableArray<TimelineEnd> History);
/// <summary>A WAL record on its way to a replica; it is lost when the sender's connection broke before it arrived (<paramref name="SenderEpoch"/>).</summary>
public sealed record WalShipment(string From, WalRecord Record, bool WantsAck, int SenderEpoch);
public sealed record Replayed(string From, Lsn Lsn);
public sealed record SlotSyncRequest(string From);
/// <summary>The leader's slots a replica keeps copies of: Patroni's permanent slots and, on PostgreSQL 17, the failover slots the slotsync worker syncs.</summary>
public sealed record SlotSyncInfo(string Leader, ImmutableArray<(string Slot, Lsn ConfirmedFlush)> Slots, ImmutableArray<(string Slot, Lsn ConfirmedFlush)> FailoverSlots);

// Client and consumer requests served by a primary.
public sealed record InsertRow(long RowId);
public sealed record RowCommitted(long RowId, Lsn Lsn, int Timeline, string Member);
public sealed record RowPending(long RowId, string Member);
public sealed record RowRejected(long RowId, string Member, string Reason);
public sealed record RowFailed(long RowId, string Member, string Reason);
public sealed record AppendWal(WalKind Kind, long Bytes);
public sealed record ConsumeSlot(string Slot);
public sealed record SlotConsumed(string Slot, Lsn Lsn, int Timeline, string Member);

// Reads and SQL the driver and the reconciler's session send.
/// <summary>Read a member's state; <paramref name="WithRows"/> also copies its rows and computes their digest (observations only).</summary>
public sealed record InspectMember(bool WithRows)
{
    public static InspectMember Full { get; } = new(true);
    public static InspectMember Status { get; } = new(false);
}
public sealed record IdentifySystem;
public sealed record SystemIdentity(int Timeline, Lsn XLogPos, bool InRecovery);
public sealed record ReadTimelineHistory(int Timeline);
public sealed record TimelineHistoryAnswer(ImmutableArray<TimelineEnd> History);
public sealed record FindSlot(string Slot);
public sealed record SlotRow(string Slot, Lsn ConfirmedFlush, Lsn RestartLsn, bool IsCopy, bool Failover = false);
public sealed record SlotAnswer(SlotRow? Slot);
public sealed record CreateSlot(string Slot, string By);
public sealed record DropSlot(string Slot, string Why);

/// <summary>A generic answer: done or refused with a reason.</summary>
/// <param name="WaitingForStandbys">A consume refused only because synchronized_standby_slots still waits for a standby: worth asking again.</param>
public sealed record MemberAnswer(bool Ok, string Detail, Lsn Lsn = default, bool WaitingForStandbys = false);

/// <summary>The state of a member, read by the driver: for observations, settle, the invariants and the tests.</summary>
public sealed record MemberInspection(
    string Name,
    bool Running,
    bool Frozen,
    bool Partitioned,
    bool IsLeaderRole,
    bool IsPrimary,
    int Timeline,
    ImmutableArray<TimelineEnd> History,
    Lsn EndLsn,
    string? Upstream,
    bool Streaming,
    string? SyncStandby,
    ImmutableArray<SlotRow> Slots,
    ImmutableArray<long> Rows,
    string Digest)
{
    /// <summary>Accepts writes right now.</summary>
    public bool Writable => Running && !Frozen && IsPrimary && IsLeaderRole;
}
