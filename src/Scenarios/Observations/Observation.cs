using System.Collections.Immutable;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Scenarios.Observations;

/// <summary>A member's role as Patroni reports it.</summary>
public enum MemberRole
{
    Leader,
    Replica,
    Unknown,
}

/// <summary>What has been done to a member's process or network.</summary>
public enum MemberState
{
    Running,
    Stopped,
    Frozen,
    Partitioned,
}

/// <summary>A replication slot as seen on one member (<c>pg_replication_slots</c>).</summary>
public sealed record SlotObservation(string Name, Lsn ConfirmedFlush, Lsn RestartLsn)
{
    public override string ToString() => $"{Name}@{ConfirmedFlush}";
}

/// <summary>One member at one moment.</summary>
/// <param name="WalLsn">The primary's current write LSN, or the replica's replay LSN.</param>
/// <param name="Writable">Accepts writes right now (a primary that is not read-only and not frozen).</param>
/// <param name="Streaming">A replica receiving WAL from the leader.</param>
/// <param name="Digest">md5 of the committed rows, see <see cref="RowDigest"/>; empty when the member can't be read.</param>
public sealed record MemberObservation(
    string Name,
    MemberRole Role,
    MemberState State,
    int Timeline,
    Lsn WalLsn,
    bool Writable,
    bool Streaming,
    ImmutableArray<SlotObservation> Slots,
    string Digest,
    int Rows)
{
    public override string ToString() =>
        $"{Name}:{Role.ToString().ToLowerInvariant()}/{State.ToString().ToLowerInvariant()} tl{Timeline} {WalLsn}"
        + (Streaming ? " streaming" : "")
        + (Writable ? " writable" : "")
        + $" rows={Rows}"
        + (Slots.IsDefaultOrEmpty ? "" : $" slots=[{string.Join(',', Slots)}]");
}

/// <summary>The consumer's persisted position on one slot: its last confirmed LSN and the timeline it read it on.</summary>
public sealed record ConsumerPosition(string Slot, Lsn LastConfirmed, int Timeline)
{
    public override string ToString() => $"{Slot}:{LastConfirmed}/tl{Timeline}";
}

/// <summary>
/// A snapshot of the whole cluster after a step. The model and the real cluster produce the same shape,
/// so the conformance runner can compare them under a stated abstraction.
/// </summary>
/// <param name="AtMilliseconds">Virtual time for the model, elapsed time for the real cluster.</param>
/// <param name="Leader">The member holding the leader key, if any.</param>
/// <param name="Acknowledged">Row ids whose commit the client saw acknowledged.</param>
/// <param name="LostAcknowledged">Acknowledged row ids that the current leader does not hold.</param>
public sealed record Observation(
    long AtMilliseconds,
    string? Leader,
    ImmutableArray<MemberObservation> Members,
    ImmutableArray<ConsumerPosition> Consumers,
    int Acknowledged,
    ImmutableArray<long> LostAcknowledged)
{
    public MemberObservation? Member(string name) => Members.FirstOrDefault(m => m.Name == name);

    public MemberObservation? LeaderMember => Leader is null ? null : Member(Leader);

    public override string ToString() =>
        $"t={AtMilliseconds}ms leader={Leader ?? "none"} | {string.Join(" | ", Members)}"
        + $" | acked={Acknowledged} lost={LostAcknowledged.Length}"
        + (Consumers.IsDefaultOrEmpty ? "" : $" | consumer [{string.Join(',', Consumers)}]");
}
