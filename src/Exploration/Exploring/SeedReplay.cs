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
