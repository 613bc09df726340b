using FsCheck;
using PatroniModel.Scenarios.Sequences;

using PatroniModel.Exploration.Running;

namespace PatroniModel.Exploration.Exploring;

/// <summary>Which generator a sequence comes from: the default fault sequences, or PostgreSQL 17's failover-slot sequences.</summary>
public enum SequenceFamily
{
    Default,
    FailoverSlots,

    /// <summary>WAL starting near a digit boundary of <c>X/Y</c> (<see cref="Explorer.WalBoundaryArbitrary"/>).</summary>
    WalBoundaries,

    /// <summary><c>reconcile ... last_confirmed</c> probes before and after every slot (<see cref="Explorer.ProbeArbitrary"/>).</summary>
    Probes,
}

/// <summary>
/// How a family is named on the command line and in an exploration summary: <c>--postgres 17</c> picks the PostgreSQL 17
/// family, <c>--family wal-boundaries</c> and <c>--family probes</c> the others, nothing the default.
/// </summary>
public static class SequenceFamilyNames
{
    private static readonly (SequenceFamily Family, string Generator, string? FamilyFlag, string Flags)[] Table =
    [
        (SequenceFamily.Default, "postgres 15", "default", ""),
        (SequenceFamily.FailoverSlots, "postgres 17", null, " --postgres 17"),
        (SequenceFamily.WalBoundaries, "wal boundaries", "wal-boundaries", " --family wal-boundaries"),
        (SequenceFamily.Probes, "probes", "probes", " --family probes"),
    ];

    /// <summary>The values <c>--family</c> takes.</summary>
    public static IReadOnlyList<string> FamilyFlags { get; } = [.. Table.Select(t => t.FamilyFlag).OfType<string>()];

    /// <summary>The generator's name in a summary (<c>postgres 15</c>, <c>postgres 17</c>, <c>wal boundaries</c>, <c>probes</c>).</summary>
    public static string GeneratorOf(SequenceFamily family) => Table.First(t => t.Family == family).Generator;

    /// <summary>The command-line options that pick <paramref name="family"/> (empty for the default), with a leading space.</summary>
    public static string FlagsOf(SequenceFamily family) => Table.First(t => t.Family == family).Flags;

    /// <summary>The same for a summary's generator name; empty for an unknown one.</summary>
    public static string FlagsOfGenerator(string generator) => Table.FirstOrDefault(t => t.Generator == generator).Flags ?? "";

    /// <summary>The family a <c>--family</c> value names, or null.</summary>
    public static SequenceFamily? FromFamilyFlag(string text) => Table.FirstOrDefault(t => t.FamilyFlag == text) is { FamilyFlag: not null } t ? t.Family : null;
}

/// <summary>Regenerates the sequence FsCheck generated for a property failure's <c>seed,gamma,size</c>.</summary>
public static class SeedReplay
{
    /// <summary>The arbitrary of <paramref name="family"/>.</summary>
    public static Arbitrary<Sequence> ArbitraryOf(SequenceFamily family) => family switch
    {
        SequenceFamily.FailoverSlots => Explorer.FailoverSlotArbitrary,
        SequenceFamily.WalBoundaries => Explorer.WalBoundaryArbitrary,
        SequenceFamily.Probes => Explorer.ProbeArbitrary,
        _ => Explorer.Arbitrary,
    };

    /// <summary>
    /// The sequence FsCheck generated for <paramref name="text"/> (<c>seed,gamma,size</c> as a property failure prints it):
    /// the first case of a one-test check replayed from that random state is exactly that sequence. Its origin says so.
    /// </summary>
    /// <exception cref="FormatException"><paramref name="text"/> is not <c>seed,gamma,size</c>.</exception>
    public static Sequence Regenerate(string text, SequenceFamily family = SequenceFamily.Default)
    {
        var point = ReplayPoint.TryParse(text)
                    ?? throw new FormatException($"--seed must be seed,gamma,size as a property failure prints it (e.g. 12345,67891,30), got '{text}'");
        return GeneratedSequences.FromReplay(ArbitraryOf(family), point) with { Origin = $"property replay {text}" };
    }
}
