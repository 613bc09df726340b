using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Postgres;

/// <summary>What a WAL record carries in the model.</summary>
public enum WalKind
{
    /// <summary>A client row, committed in its own transaction.</summary>
    Row,

    /// <summary>A logical message (advance-wal).</summary>
    Message,

    /// <summary>An online CHECKPOINT.</summary>
    Checkpoint,

    /// <summary>The shutdown checkpoint PostgreSQL writes when it stops (demote, restart).</summary>
    ShutdownCheckpoint,

    /// <summary>The end-of-recovery record a promotion writes on the new timeline.</summary>
    EndOfRecovery,

    /// <summary>The RUNNING_XACTS record PostgreSQL logs when it creates a logical slot (its consistent point follows it).</summary>
    RunningXacts,
}

/// <summary>One WAL record: its range, the timeline it was written on, and the row it commits (for <see cref="WalKind.Row"/>).</summary>
public sealed record WalRecord(Lsn Start, Lsn End, int Timeline, WalKind Kind, long RowId);

/// <summary>One line of a timeline history file: <paramref name="Timeline"/> ended at <paramref name="End"/>.</summary>
public sealed record TimelineSwitchPoint(int Timeline, Lsn End)
{
    public override string ToString() => $"{Timeline}@{End}";
}

/// <summary>The fixed WAL sizes the model uses, so LSNs are deterministic.</summary>
public static class WalSizes
{
    /// <summary>Where WAL stands after initdb and bootstrap.</summary>
    public static readonly Lsn Initial = new(0x3000060);

    /// <summary>One client row: INSERT plus COMMIT.</summary>
    public const long Row = 0xA8;

    /// <summary>An online checkpoint record (CHECKPOINT plus RUNNING_XACTS).</summary>
    public const long Checkpoint = 0x78;

    /// <summary>A shutdown checkpoint.</summary>
    public const long ShutdownCheckpoint = 0x78;

    /// <summary>The end-of-recovery record of a promotion.</summary>
    public const long EndOfRecovery = 0x28;

    /// <summary>
    /// The RUNNING_XACTS record a logical slot's creation logs (measured on PostgreSQL 15: 0x38 bytes). A slot re-created
    /// with no other WAL since the consumer's position is therefore a 56-byte gap, as in reality.
    /// </summary>
    public const long RunningXacts = 0x38;
}
