using PatroniModel.Scenarios.Configuration;

namespace PatroniModel.Scenarios.Sequences;

/// <summary>
/// The bounds of every number and size a sequence file holds, in one table that the reader enforces and the README
/// documents (section "Sequence files", "Bounds"). They keep a replay to about a minute and a gigabyte on the model:
/// without them a <c>write</c> of 2e9 rows grew to gigabytes and a <c>wait</c> of 1e9 s was a silent CPU-bound hang.
/// The cluster's own settings (ttl, loop_wait, retry_timeout, maximum_lag_on_failover, members, slot lists) are bounded
/// in <see cref="ClusterConfig.Problems"/>, so a <c>patch-config</c> step, the model and the real cluster take the same
/// values a file's <c>cluster</c> does.
/// </summary>
public static class SequenceBounds
{
    /// <summary>The largest sequence file read: 8 MiB (a 10,000-step file is under 1 MiB).</summary>
    public const long MaxFileBytes = 8 * 1024 * 1024;

    /// <summary>The most steps a sequence may have (about a minute on the model on one core).</summary>
    public const int MaxSteps = 10_000;

    /// <summary>The most rows one <c>write</c> step writes.</summary>
    public const int MaxRowsPerWrite = 100_000;

    /// <summary>The most rows all <c>write</c> steps of a sequence write together (the model keeps about 1 kB per row).</summary>
    public const long MaxTotalRows = 1_000_000;

    /// <summary>The longest one <c>wait</c> step waits: an hour.</summary>
    public const int MaxWaitSeconds = 3_600;

    /// <summary>The most seconds all <c>wait</c> steps of a sequence wait together: a day.</summary>
    public const long MaxTotalWaitSeconds = 86_400;

    /// <summary>The most bytes one <c>advance-wal</c> step moves WAL: 1 GiB.</summary>
    public const long MaxAdvanceWalBytes = 1L << 30;

    /// <summary>The highest timeline a <c>reconcile</c> step names (PostgreSQL's timeline IDs as the model counts them).</summary>
    public const int MaxTimeline = int.MaxValue;

    /// <summary>The longest <c>description</c> or <c>origin</c>, in characters (each is one line).</summary>
    public const int MaxTextLength = 10_000;
}
