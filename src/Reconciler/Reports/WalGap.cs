using NpgsqlTypes;

namespace PatroniModel.Reconciler.Reports;

/// <summary>A range of WAL the consumer never saw: from its last confirmed LSN to where the slot now starts.</summary>
public sealed record WalGap(NpgsqlLogSequenceNumber Start, NpgsqlLogSequenceNumber End)
{
    /// <summary>Bytes of WAL in the gap (the whole 64-bit range: up to 2^64 - 1).</summary>
    public ulong Bytes => Distance(Start, End);

    /// <summary>
    /// The one place a gap is computed. <c>NpgsqlLogSequenceNumber</c>'s minus is an absolute distance, so this compares
    /// first: a gap exists only when <paramref name="end"/> is past <paramref name="start"/>.
    /// </summary>
    public static WalGap? Between(NpgsqlLogSequenceNumber start, NpgsqlLogSequenceNumber end) =>
        end > start ? new WalGap(start, end) : null;

    /// <summary>
    /// Bytes from <paramref name="from"/> up to <paramref name="to"/>; zero when <paramref name="to"/> is not past it.
    /// Unsigned: a distance of 2^63 or more (e.g. <c>0/0</c> to <c>FFFFFFFF/FFFFFFFF</c>) is a distance, never a negative number.
    /// </summary>
    public static ulong Distance(NpgsqlLogSequenceNumber from, NpgsqlLogSequenceNumber to) =>
        to > from ? (ulong)to - (ulong)from : 0;

    public override string ToString() => $"{Start}..{End} ({Bytes} B)";
}
