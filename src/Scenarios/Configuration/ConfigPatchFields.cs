using System.Collections.Immutable;

namespace PatroniModel.Scenarios.Configuration;

/// <summary>What a <see cref="ConfigPatchField"/> holds: a whole number, a byte count, a synchronous mode, or slot names.</summary>
public enum PatchValueKind
{
    Int,
    Long,
    SynchronousMode,
    Slots,
}

/// <summary>
/// One field of a <see cref="ConfigPatch"/>: its name in sequence files, history lines and Patroni's dynamic configuration,
/// what it holds, how to read it from and set it on a patch, and for a number the range it takes (the same range as the
/// cluster's own setting, <see cref="ClusterConfig.Problems"/>).
/// </summary>
public sealed record ConfigPatchField(
    string Name, PatchValueKind Kind, Func<ConfigPatch, object?> Get, Func<ConfigPatch, object, ConfigPatch> Set, long Min = 0, long Max = 0)
{
    /// <summary>The value as history lines write it (<c>[s1,s2]</c>, <c>10</c>, <c>on</c>), or null when the patch leaves it.</summary>
    public string? Text(ConfigPatch patch) => Get(patch) switch
    {
        null => null,
        ImmutableArray<string> slots => $"[{string.Join(',', slots)}]",
        SynchronousMode mode => SynchronousModeNames.ToName(mode),
        var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// The fields of a <c>patch-config</c> step, in their canonical order: the one table that the sequence file's reader and
/// writer, the history line (<see cref="ConfigPatch.ToString"/>) and the real cluster's <c>PATCH /config</c> body go by.
/// </summary>
public static class ConfigPatchFields
{
    public static ImmutableArray<ConfigPatchField> All { get; } =
    [
        new("permanent_slots", PatchValueKind.Slots, p => p.PermanentSlots, (p, v) => p with { PermanentSlots = (ImmutableArray<string>)v }),
        new("ignore_slots", PatchValueKind.Slots, p => p.IgnoreSlots, (p, v) => p with { IgnoreSlots = (ImmutableArray<string>)v }),
        new("ttl", PatchValueKind.Int, p => p.Ttl, (p, v) => p with { Ttl = (int)v }, ClusterConfig.MinTtl, ClusterConfig.MaxDurationSeconds),
        new("loop_wait", PatchValueKind.Int, p => p.LoopWait, (p, v) => p with { LoopWait = (int)v },
            ClusterConfig.MinLoopWaitAndRetryTimeout, ClusterConfig.MaxDurationSeconds),
        new("retry_timeout", PatchValueKind.Int, p => p.RetryTimeout, (p, v) => p with { RetryTimeout = (int)v },
            ClusterConfig.MinLoopWaitAndRetryTimeout, ClusterConfig.MaxDurationSeconds),
        new("maximum_lag_on_failover", PatchValueKind.Long, p => p.MaximumLagOnFailover, (p, v) => p with { MaximumLagOnFailover = (long)v },
            0, ClusterConfig.MaxMaximumLagOnFailover),
        new("synchronous_mode", PatchValueKind.SynchronousMode, p => p.SynchronousMode, (p, v) => p with { SynchronousMode = (SynchronousMode)v }),
    ];

    /// <summary>The row of <paramref name="name"/> (a cluster setting a patch can change too).</summary>
    public static ConfigPatchField Named(string name) => All.Single(f => f.Name == name);

    /// <summary>The field names, in order.</summary>
    public static ImmutableArray<string> Names { get; } = [.. All.Select(f => f.Name)];
}
