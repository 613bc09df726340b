using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Postgres;

/// <summary>
/// A logical replication slot on one member. On the primary it is a real slot; on a replica it is Patroni's copy of a
/// permanent slot, usable after a failover only once <see cref="Ready"/> (Patroni docs: permanent replication slots).
/// </summary>
public sealed class LogicalSlot(string name, Lsn confirmedFlush, bool isCopy, long readyAt)
{
    public string Name { get; } = name;
    public Lsn ConfirmedFlush { get; set; } = confirmedFlush;
    public Lsn RestartLsn { get; set; } = confirmedFlush;

    /// <summary>A replica's copy of a permanent slot (made by Patroni copying the slot file and restarting PostgreSQL).</summary>
    public bool IsCopy { get; set; } = isCopy;

    /// <summary>
    /// A PostgreSQL 17 failover slot (<c>failover =&gt; true</c>): on the primary the slotsync worker of each standby copies it
    /// (a copy with <see cref="IsCopy"/> is a synced slot, <c>synced = true</c>). Patroni 4.0.7 treats it as any other slot.
    /// </summary>
    public bool Failover { get; init; }

    /// <summary>Virtual time from which the copy is safe to use after a failover.</summary>
    public long ReadyAt { get; set; } = readyAt;

    public bool ReadyAnnounced { get; set; }

    public bool Ready(long now) => !IsCopy || now >= ReadyAt;

    /// <summary>
    /// The WAL from this slot's restart point is not on this member: a copy of slot files older than the member's own
    /// WAL (the bring-up copies the bootstrap leader's permanent slots into replicas made by pg_basebackup later).
    /// Advancing or decoding it fails ("requested WAL segment ... has already been removed"); Patroni re-copies it
    /// after a failed advance (patroni PR 1946).
    /// </summary>
    public bool WalMissing { get; set; }

    /// <summary>An advance of this copy failed for missing WAL: Patroni copies the slot again at its next loop.</summary>
    public bool RecopyPending { get; set; }

    public void Advance(Lsn to)
    {
        if (to > ConfirmedFlush)
        {
            ConfirmedFlush = to;
            RestartLsn = to;
        }
    }
}
