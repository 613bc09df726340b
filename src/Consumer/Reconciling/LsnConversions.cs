using NpgsqlTypes;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Consumer.Reconciling;

/// <summary>Converts between the vocabulary's <see cref="Lsn"/> and Npgsql's <see cref="NpgsqlLogSequenceNumber"/>.</summary>
public static class LsnConversions
{
    public static NpgsqlLogSequenceNumber ToNpgsql(this Lsn lsn) => new(lsn.Value);

    public static Lsn ToLsn(this NpgsqlLogSequenceNumber lsn) => new((ulong)lsn);

    public static Lsn? ToLsn(this NpgsqlLogSequenceNumber? lsn) => lsn is { } value ? value.ToLsn() : null;
}
