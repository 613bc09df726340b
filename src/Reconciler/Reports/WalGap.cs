using NpgsqlTypes;

namespace PatroniModel.Reconciler.Reports;

/// <summary>A range of WAL the consumer never saw: from its last confirmed LSN to where the slot now starts.</summary>
public sealed record WalGap(NpgsqlLogSequenceNumber Start, NpgsqlLogSequenceNumber End)
{
    /// <summary>Bytes of WAL in the gap.</summary>
    public long Bytes => Distance(Start, End);

    /// <summary>
    /// The one place a gap is computed. <c>NpgsqlLogSequenceNumber</c>'s minus is an absolute distance, so this compares
    /// first: a gap exists only when <paramref name="end"/> is past <paramref name="start"/>.
    /// </summary>
    public static WalGap? Between(NpgsqlLogSequenceNumber start, NpgsqlLogSequenceNumber end) =>
        end > start ? new WalGap(start, end) : null;

    /// <summary>Bytes from <paramref name="from"/> up to <paramref name="to"/>; zero when <paramref name="to"/> is not past it.</summary>
    public static long Distance(NpgsqlLogSequenceNumber from, NpgsqlLogSequenceNumber to) =>
        to > from ? (long)((ulong)to - (ulong)from) : 0;

    public override string ToString() => $"{Start}..{End} ({Bytes} B)";
}
