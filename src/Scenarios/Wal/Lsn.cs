using System.Globalization;

namespace PatroniModel.Scenarios.Wal;

/// <summary>
/// A PostgreSQL WAL position, printed <c>X/Y</c> as PostgreSQL does (pg_lsn).
/// The vocabulary has no Npgsql dependency, so it carries its own value type; layers that talk to
/// PostgreSQL convert to and from <c>NpgsqlLogSequenceNumber</c> by <see cref="Value"/>.
/// </summary>
public readonly record struct Lsn(ulong Value) : IComparable<Lsn>
{
    public static readonly Lsn Zero = new(0);

    public int CompareTo(Lsn other) => Value.CompareTo(other.Value);

    public static bool operator <(Lsn a, Lsn b) => a.Value < b.Value;
    public static bool operator >(Lsn a, Lsn b) => a.Value > b.Value;
    public static bool operator <=(Lsn a, Lsn b) => a.Value <= b.Value;
    public static bool operator >=(Lsn a, Lsn b) => a.Value >= b.Value;

    /// <summary>The position <paramref name="bytes"/> further on (or back, when negative), over the whole unsigned 64-bit range.</summary>
    /// <exception cref="OverflowException">The result is outside 0/0..FFFFFFFF/FFFFFFFF.</exception>
    public Lsn Plus(long bytes) => new(bytes >= 0 ? checked(Value + (ulong)bytes) : checked(Value - (ulong)-bytes));

    /// <summary>
    /// Bytes from <paramref name="start"/> up to this position; zero when this is not past it, <see cref="long.MaxValue"/>
    /// when 2^63 or more (as the vocabulary records byte counts), never negative.
    /// </summary>
    public long BytesAfter(Lsn start) => Value > start.Value ? (long)Math.Min(Value - start.Value, long.MaxValue) : 0;

    public static Lsn Max(Lsn a, Lsn b) => a >= b ? a : b;
    public static Lsn Min(Lsn a, Lsn b) => a <= b ? a : b;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Value >> 32:X}/{Value & 0xFFFFFFFF:X}");

    public static bool TryParse(string? text, out Lsn lsn)
    {
        lsn = Zero;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }
        var slash = text.IndexOf('/');
        if (slash <= 0 || slash == text.Length - 1 || slash > 8 || text.Length - slash - 1 > 8)
        {
            return false;
        }
        if (!uint.TryParse(text.AsSpan(0, slash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)
            || !uint.TryParse(text.AsSpan(slash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low))
        {
            return false;
        }
        lsn = new Lsn(((ulong)high << 32) | low);
        return true;
    }

    public static Lsn Parse(string text) =>
        TryParse(text, out var lsn) ? lsn : throw new FormatException($"'{text}' is not an LSN (expected X/Y in hex, e.g. 0/3000060)");
}
