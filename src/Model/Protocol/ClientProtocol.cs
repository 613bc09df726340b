using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Model.Protocol;

/// <summary>Wires the client to the members.</summary>
internal sealed record WireClient(ImmutableDictionary<string, IActorRef> Members);

/// <summary>Write <paramref name="Rows"/> rows, one transaction each; answer <see cref="WriteBatchDone"/> to <paramref name="ReplyTo"/>.</summary>
internal sealed record WriteRows(int Rows, IActorRef ReplyTo);

internal sealed record WriteBatchDone(int Acked, int Failed, string Detail);

internal sealed record NextRow(long Generation);

internal sealed record CommitTimedOut(long RowId);

/// <summary>A member was promoted holding these rows: acknowledged rows it lacks are lost.</summary>
internal sealed record LeaderPromoted(string Member, Postgres.RowIds Rows);

/// <summary>pg_rewind discarded these rows on a member.</summary>
internal sealed record RowsDiscarded(string Member, List<long> Rows);

internal sealed record InspectClient
{
    public static InspectClient Instance { get; } = new();
}

internal sealed record ClientInspection(Postgres.RowIds Acknowledged, long NextRowId);

/// <summary>The consumer reads <paramref name="Slot"/> on <paramref name="Leader"/> up to its end and confirms it.</summary>
internal sealed record ConsumeOn(string Slot, IActorRef Leader, IActorRef ReplyTo);

/// <summary>
/// The consumer persists <paramref name="Position"/> when it has none for the slot or the position is past the persisted one
/// (a persisted position never goes backwards): after creating its slot, or when it resumes from a slot the reconciler left.
/// <paramref name="Replace"/> persists it even when it is behind (only <see cref="ModelOptions.PlantedBugConsumerAdoptsReportedSlot"/> does).
/// </summary>
internal sealed record PersistPosition(ConsumerPosition Position, string Why, bool Replace = false);

internal sealed record InspectConsumer
{
    public static InspectConsumer Instance { get; } = new();
}

internal sealed record ConsumerInspection(ImmutableArray<PatroniModel.Scenarios.Observations.ConsumerPosition> Positions);
