using System.Collections.Immutable;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Scenarios.Configuration;

/// <summary>Patroni's <c>synchronous_mode</c> / <c>synchronous_mode_strict</c> (Patroni docs: replication_modes).</summary>
public enum SynchronousMode
{
    Off,
    On,
    Strict,
}

/// <summary>Which of Patroni's DCS sections the real cluster uses: <c>etcd:</c> (v2 API, default) or <c>etcd3:</c>.</summary>
public enum DcsFlavor
{
    Etcd,
    Etcd3,
}

/// <summary>The timeouts Patroni runs with, in whole seconds (<see cref="ClusterConfig.Timings"/>).</summary>
public readonly record struct PatroniTimings(int Ttl, int LoopWait, int RetryTimeout);

/// <summary>
/// A cluster under test: members <c>pg1..pgN</c> and Patroni's dynamic configuration
/// (Patroni docs: dynamic_configuration). Durations are whole seconds, as Patroni takes them.
/// </summary>
public sealed record ClusterConfig
{
    public const int MaxMembers = 9;

    public int Members { get; init; } = 3;
    public int Ttl { get; init; } = 10;
    public int LoopWait { get; init; } = 2;
    public int RetryTimeout { get; init; } = 4;
    public long MaximumLagOnFailover { get; init; } = 1_048_576;
    public SynchronousMode SynchronousMode { get; init; } = SynchronousMode.Off;

    /// <summary>Logical permanent slots (plugin <see cref="SlotDefaults.Plugin"/> on <see cref="SlotDefaults.Database"/>).</summary>
    public ImmutableArray<string> PermanentSlots { get; init; } = [];

    /// <summary>Slot names matched by Patroni's <c>ignore_slots</c>.</summary>
    public ImmutableArray<string> IgnoreSlots { get; init; } = [];

    public DcsFlavor Dcs { get; init; } = DcsFlavor.Etcd;

    /// <summary>
    /// PostgreSQL's major version: 15 (the default, what the real cluster runs) or 17, whose failover slots the model
    /// simulates (slots created with <c>failover =&gt; true</c>, synced to the standbys by <c>sync_replication_slots</c>,
    /// left alone by Patroni). PostgreSQL 17 runs on the model only.
    /// </summary>
    public int PostgresMajor { get; init; } = 15;

    /// <summary>
    /// PostgreSQL 17's <c>synchronized_standby_slots</c> on the leader, listing every other member's physical slot:
    /// a failover slot's consumer receives (and so confirms) only WAL every listed standby has flushed.
    /// </summary>
    public bool SynchronizedStandbySlots { get; init; }

    /// <summary>
    /// Where the model's WAL stands after initdb and bootstrap; null (the default) is the model's usual 0/3000060. A start
    /// near a digit boundary (0/FFFFF00, 0/FFFFFFF0, F/FFFFFF00) makes LSNs cross it, where the text and the numeric order
    /// of <c>X/Y</c> differ. Model-only: a real cluster's WAL starts where initdb leaves it, so the real cluster refuses it.
    /// </summary>
    public Lsn? InitialWal { get; init; }

    /// <summary>The highest <see cref="InitialWal"/>: 4 GiB below the end of the 64-bit LSN space leaves room for any sequence.</summary>
    public static readonly Lsn MaxInitialWal = new(0xFFFFFFFF_00000000);

    /// <summary>The lowest <see cref="InitialWal"/>: past the first WAL segment's header, as initdb leaves it.</summary>
    public static readonly Lsn MinInitialWal = new(0x1000028);

    /// <summary>PostgreSQL 17 failover slots: slots the consumer or the reconciler create are synced to the standbys.</summary>
    public bool FailoverSlots => PostgresMajor >= 17;

    /// <summary>
    /// Patroni 4 (the PostgreSQL 17 image runs Debian 13's Patroni 4.0.7; the PostgreSQL 15 one Patroni 3.0.2): in
    /// synchronous mode a failover, not a switchover, may go to an asynchronous member (ha.py get_failover_candidates).
    /// </summary>
    public bool FailoverToAsyncInSyncMode => PostgresMajor >= 17;

    /// <summary>
    /// Patroni 4 drops the unknown slots in a new leader's first cycle; Patroni 3.0.2 a loop later: the first cycle creates
    /// the members' physical slots, which schedules the reload that drops them (slots.py _ensure_physical_slots). Measured:
    /// corpus 19 (PostgreSQL 17) and campaign seed 20261204 PostgreSQL 15 #16, #22.
    /// </summary>
    public bool NewLeaderDropsUnknownSlotsAtOnce => PostgresMajor >= 17;

    /// <summary>
    /// Patroni 4 writes /sync with the leader alone as soon as its sync pass finds the key missing (ha.py
    /// _maybe_enable_synchronous_mode); Patroni 3.0.2 writes it only once it names a synchronous standby, so until then any
    /// healthy member may be promoted.
    /// </summary>
    public bool SyncKeyWrittenBeforeAStandby => PostgresMajor >= 17;

    /// <summary>
    /// The ttl, loop_wait and retry_timeout Patroni runs with. Patroni 4 (since 3.2; config.py
    /// _validate_and_adjust_timeouts) raises ttl to at least 20 s and retry_timeout to at least 3 s, then lowers loop_wait
    /// (or, at loop_wait 1, retry_timeout) until loop_wait + 2 * retry_timeout fits in ttl: a configured ttl of 6 or 10 is
    /// a 20 s leader key on the PostgreSQL 17 image (measured: the etcd key's ttl is 20, campaign seed 20261205 PostgreSQL
    /// 17 #2, #6). Patroni 3.0.2 takes them as given.
    /// </summary>
    public PatroniTimings Timings
    {
        get
        {
            if (PostgresMajor < 17)
            {
                return new PatroniTimings(Ttl, LoopWait, RetryTimeout);
            }
            var (ttl, loopWait, retryTimeout) = (Math.Max(Ttl, 20), Math.Max(LoopWait, 1), Math.Max(RetryTimeout, 3));
            if (1 + 2 * retryTimeout > ttl)
            {
                (loopWait, retryTimeout) = (1, (ttl - 1) / 2);
            }
            else if (loopWait + 2 * retryTimeout > ttl)
            {
                loopWait = ttl - 2 * retryTimeout;
            }
            return new PatroniTimings(ttl, loopWait, retryTimeout);
        }
    }

    /// <summary>The PostgreSQL major versions a cluster may have.</summary>
    public static IReadOnlyList<int> PostgresMajors { get; } = [15, 17];

    public static ClusterConfig Default { get; } = new();

    public IEnumerable<string> MemberNames => Enumerable.Range(1, Members).Select(MemberName);

    public static string MemberName(int index) => $"pg{index}";

    public bool HasMember(string name) => MemberNames.Contains(name, StringComparer.Ordinal);

    /// <summary>The configuration after a <c>PATCH /config</c>.</summary>
    public ClusterConfig Apply(ConfigPatch patch) => this with
    {
        Ttl = patch.Ttl ?? Ttl,
        LoopWait = patch.LoopWait ?? LoopWait,
        RetryTimeout = patch.RetryTimeout ?? RetryTimeout,
        MaximumLagOnFailover = patch.MaximumLagOnFailover ?? MaximumLagOnFailover,
        SynchronousMode = patch.SynchronousMode ?? SynchronousMode,
        PermanentSlots = patch.PermanentSlots ?? PermanentSlots,
        IgnoreSlots = patch.IgnoreSlots ?? IgnoreSlots,
    };

    /// <summary>Value equality, slot lists compared by content.</summary>
    public bool Equals(ClusterConfig? other) =>
        other is not null
        && (Members, Ttl, LoopWait, RetryTimeout, MaximumLagOnFailover, SynchronousMode, Dcs, PostgresMajor, SynchronizedStandbySlots, InitialWal)
        == (other.Members, other.Ttl, other.LoopWait, other.RetryTimeout, other.MaximumLagOnFailover, other.SynchronousMode, other.Dcs,
            other.PostgresMajor, other.SynchronizedStandbySlots, other.InitialWal)
        && PermanentSlots.SequenceEqual(other.PermanentSlots)
        && IgnoreSlots.SequenceEqual(other.IgnoreSlots);

    public override int GetHashCode() =>
        HashCode.Combine(Members, Ttl, LoopWait, RetryTimeout, MaximumLagOnFailover, SynchronousMode, Dcs, PermanentSlots.Length);

    /// <summary>The shortest <c>ttl</c>, in seconds.</summary>
    public const int MinTtl = 2;

    /// <summary>The shortest <c>loop_wait</c> and <c>retry_timeout</c>, in seconds.</summary>
    public const int MinLoopWaitAndRetryTimeout = 1;

    /// <summary>The longest <c>ttl</c>, <c>loop_wait</c> and <c>retry_timeout</c>, in seconds: an hour.</summary>
    public const int MaxDurationSeconds = 3_600;

    /// <summary>The largest <c>maximum_lag_on_failover</c>: 1 TiB (Patroni's default is 1 MiB).</summary>
    public const long MaxMaximumLagOnFailover = 1L << 40;

    /// <summary>The most slot names <c>permanent_slots</c> or <c>ignore_slots</c> may list.</summary>
    public const int MaxSlotsListed = 64;

    /// <summary>
    /// Checks the values Patroni itself would refuse or that make no sense for a test cluster, each against its range
    /// (the README's "Bounds" table): the sequence file's <c>cluster</c>, a <c>patch-config</c> step applied to it, the
    /// model and the real cluster all ask this one rule.
    /// </summary>
    public IEnumerable<string> Problems()
    {
        if (Members is < 1 or > MaxMembers)
        {
            yield return $"members must be from 1 to {MaxMembers}, got {Members}";
        }
        if (Ttl is < MinTtl or > MaxDurationSeconds)
        {
            yield return $"ttl must be from {MinTtl} to {MaxDurationSeconds} s, got {Ttl}";
        }
        if (LoopWait is < MinLoopWaitAndRetryTimeout or > MaxDurationSeconds)
        {
            yield return $"loop_wait must be from {MinLoopWaitAndRetryTimeout} to {MaxDurationSeconds} s, got {LoopWait}";
        }
        if (RetryTimeout is < MinLoopWaitAndRetryTimeout or > MaxDurationSeconds)
        {
            yield return $"retry_timeout must be from {MinLoopWaitAndRetryTimeout} to {MaxDurationSeconds} s, got {RetryTimeout}";
        }
        if (Ttl < LoopWait + RetryTimeout)
        {
            yield return $"ttl ({Ttl}) must be at least loop_wait + retry_timeout ({LoopWait + RetryTimeout}), as Patroni requires";
        }
        if (!PostgresMajors.Contains(PostgresMajor))
        {
            yield return $"postgres must be {string.Join(" or ", PostgresMajors)}, got {PostgresMajor}";
        }
        if (SynchronizedStandbySlots && !FailoverSlots)
        {
            yield return "synchronized_standby_slots needs postgres 17 (failover slots)";
        }
        if (InitialWal is { } start && (start < MinInitialWal || start > MaxInitialWal))
        {
            yield return $"initial_wal must be {MinInitialWal}..{MaxInitialWal}, got {start}";
        }
        if (MaximumLagOnFailover is < 0 or > MaxMaximumLagOnFailover)
        {
            yield return $"maximum_lag_on_failover must be from 0 to {MaxMaximumLagOnFailover} bytes, got {MaximumLagOnFailover}";
        }
        foreach (var (name, slots) in new[] { ("permanent_slots", PermanentSlots), ("ignore_slots", IgnoreSlots) })
        {
            if (slots.Length > MaxSlotsListed)
            {
                yield return $"{name} lists {slots.Length} slots, at most {MaxSlotsListed}";
            }
        }
        foreach (var slot in PermanentSlots.Concat(IgnoreSlots))
        {
            if (!SlotDefaults.IsValidSlotName(slot))
            {
                yield return $"'{slot}' is not a valid slot name ({SlotDefaults.SlotNameRule})";
            }
        }
    }
}

/// <summary>A <c>PATCH /config</c>: only the fields that are set change.</summary>
public sealed record ConfigPatch
{
    public ImmutableArray<string>? PermanentSlots { get; init; }
    public ImmutableArray<string>? IgnoreSlots { get; init; }
    public int? Ttl { get; init; }
    public int? LoopWait { get; init; }
    public int? RetryTimeout { get; init; }
    public long? MaximumLagOnFailover { get; init; }
    public SynchronousMode? SynchronousMode { get; init; }

    /// <summary>Value equality, slot lists compared by content.</summary>
    public bool Equals(ConfigPatch? other) =>
        other is not null
        && (Ttl, LoopWait, RetryTimeout, MaximumLagOnFailover, SynchronousMode)
        == (other.Ttl, other.LoopWait, other.RetryTimeout, other.MaximumLagOnFailover, other.SynchronousMode)
        && SameSlots(PermanentSlots, other.PermanentSlots)
        && SameSlots(IgnoreSlots, other.IgnoreSlots);

    public override int GetHashCode() => HashCode.Combine(Ttl, LoopWait, RetryTimeout, MaximumLagOnFailover, SynchronousMode);

    private static bool SameSlots(ImmutableArray<string>? a, ImmutableArray<string>? b) =>
        a is null ? b is null : b is not null && a.Value.SequenceEqual(b.Value);

    /// <summary>True when the patch changes the permanent slots, which makes Patroni reload its slot state.</summary>
    public bool TouchesPermanentSlots => PermanentSlots is not null;

    /// <summary>The history line's text: each set field as <c>name=value</c>, in <see cref="ConfigPatchFields"/>' order.</summary>
    public override string ToString() =>
        string.Join(' ', ConfigPatchFields.All.Select(f => f.Text(this) is { } text ? $"{f.Name}={text}" : null).OfType<string>());
}

public static class SynchronousModeNames
{
    public static string ToName(SynchronousMode mode) => mode switch
    {
        SynchronousMode.Off => "off",
        SynchronousMode.On => "on",
        SynchronousMode.Strict => "strict",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public static bool TryParse(string? text, out SynchronousMode mode)
    {
        switch (text)
        {
            case "off": mode = SynchronousMode.Off; return true;
            case "on": mode = SynchronousMode.On; return true;
            case "strict": mode = SynchronousMode.Strict; return true;
            default: mode = SynchronousMode.Off; return false;
        }
    }
}

/// <summary>The slot conventions every cluster of this project uses.</summary>
public static class SlotDefaults
{
    public const string Plugin = "test_decoding";
    public const string Database = "postgres";
    public const string SlotNameRule = "lower-case letters, digits and underscores, 1 to 63 characters";

    /// <summary>PostgreSQL's rule for replication slot names (ReplicationSlotValidateName): <c>[a-z0-9_]{1,63}</c>.</summary>
    public static bool IsValidSlotName(string? name) =>
        name is { Length: >= 1 and <= 63 } && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');
}
