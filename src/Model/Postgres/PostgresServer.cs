using System.Collections.Immutable;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Postgres;

/// <summary>
/// One member's PostgreSQL: its WAL (records, so pg_rewind can discard a diverged tail), its timeline and history,
/// the committed rows those records carry, and its logical slots. Owned by exactly one member actor.
/// </summary>
/// <param name="initialWal">Where its WAL stands after initdb and bootstrap (<see cref="WalSizes.Initial"/> unless the configuration says).</param>
public sealed class PostgresServer(Lsn initialWal)
{
    private readonly List<WalRecord> _wal = [];
    private readonly RowIdLog _rows = new();

    public int Timeline { get; private set; } = 1;

    /// <summary>The ancestors of <see cref="Timeline"/>, oldest first, each with the LSN where it ended.</summary>
    public ImmutableArray<TimelineSwitchPoint> History { get; private set; } = [];

    /// <summary>True while PostgreSQL runs as a primary (not in recovery).</summary>
    public bool IsPrimary { get; set; }

    /// <summary><c>synchronous_standby_names</c> as Patroni set it, or null.</summary>
    public string? SyncStandby { get; set; }

    public SortedDictionary<string, LogicalSlot> Slots { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<WalRecord> Wal => _wal;

    /// <summary>The end of WAL: insert = flush on a primary, receive = replay on a replica.</summary>
    public Lsn EndLsn => _wal.Count == 0 ? initialWal : _wal[^1].End;

    /// <summary>The committed rows as they stand now (a snapshot: later commits do not show in it).</summary>
    public RowIds Rows => _rows.Snapshot();

    public bool HasRow(long id) => _rows.Contains(id);

    public string Digest => _rows.Digest();

    /// <summary>Appends a record this server writes itself (as primary).</summary>
    public WalRecord Write(WalKind kind, long bytes, long rowId = 0)
    {
        var start = EndLsn;
        var record = new WalRecord(start, start.Plus(bytes), Timeline, kind, rowId);
        Apply(record);
        return record;
    }

    /// <summary>Applies a record received from the primary (or written locally).</summary>
    public void Apply(WalRecord record)
    {
        _wal.Add(record);
        if (record.Kind == WalKind.Row)
        {
            _rows.Add(record.RowId);
        }
    }

    /// <summary>Where <paramref name="timeline"/> ends on this server's lineage: max for the current one, null when it is no ancestor.</summary>
    public Lsn? EndOf(int timeline)
    {
        if (timeline == Timeline)
        {
            return new Lsn(ulong.MaxValue);
        }
        foreach (var entry in History)
        {
            if (entry.Timeline == timeline)
            {
                return entry.End;
            }
        }
        return null;
    }

    /// <summary>Starts a new timeline at the current end of WAL (promotion); returns the fork LSN.</summary>
    public Lsn Promote(int newTimeline)
    {
        var fork = EndLsn;
        History = History.Add(new TimelineSwitchPoint(Timeline, fork));
        Timeline = newTimeline;
        IsPrimary = true;
        return fork;
    }

    /// <summary>Takes the primary's lineage when following it.</summary>
    public void AdoptLineage(int timeline, ImmutableArray<TimelineSwitchPoint> history)
    {
        Timeline = timeline;
        History = history;
    }

    /// <summary>pg_rewind: discards every record past <paramref name="point"/>; returns the row ids discarded.</summary>
    public List<long> TruncateAfter(Lsn point)
    {
        var discarded = new List<long>();
        var keep = _wal.Count;
        while (keep > 0 && _wal[keep - 1].End > point)
        {
            keep--;
        }
        for (var i = keep; i < _wal.Count; i++)
        {
            if (_wal[i].Kind == WalKind.Row)
            {
                discarded.Add(_wal[i].RowId);
            }
        }
        if (discarded.Count > 0)
        {
            _rows.RemoveAll(discarded.ToHashSet());
        }
        _wal.RemoveRange(keep, _wal.Count - keep);
        return discarded;
    }

    /// <summary>The records after <paramref name="from"/>, for a replica that starts streaming there.</summary>
    public List<WalRecord> RecordsAfter(Lsn from)
    {
        var index = _wal.Count;
        while (index > 0 && _wal[index - 1].Start >= from)
        {
            index--;
        }
        return _wal.GetRange(index, _wal.Count - index);
    }
}
