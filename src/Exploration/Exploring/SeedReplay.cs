using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using PatroniModel.Scenarios.Sequences;

using PatroniModel.Exploration.Running;

namespace PatroniModel.Exploration.Exploring;

/// <summary>Which generator a sequence comes from: the default fault sequences, or PostgreSQL 17's failover-slot sequences.</summary>
public enum SequenceFamily
{
    Default,
    FailoverSlots,
}

/// <summary>Regenerates the sequence FsCheck generated for a property failure's <c>seed,gamma,size</c>.</summary>
public static class SeedReplay
{
    /// <summary>The arbitrary of <paramref name="family"/> (<see cref="Explorer.Arbitrary"/> or <see cref="Explorer.FailoverSlotArbitrary"/>).</summary>
    public static Arbitrary<Sequence> ArbitraryOf(SequenceFamily family) =>
        family == SequenceFamily.FailoverSlots ? Explorer.FailoverSlotArbitrary : Explorer.Arbitrary;

    /// <summary>
    /// The sequence FsCheck generated for <paramref name="text"/> (<c>seed,gamma,size</c> as a property failure prints it):
    /// the first case of a one-test check replayed from that random state is exactly that sequence. Its origin says so.
    /// </summary>
    /// <exception cref="FormatException"><paramref name="text"/> is not <c>seed,gamma,size</c>.</exception>
    public static Sequence Regenerate(string text, SequenceFamily family = SequenceFamily.Default)
    {
        var parts = text.Split(',');
        if (parts.Length != 3
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seed)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var gamma)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new FormatException($"--seed must be seed,gamma,size as a property failure prints it (e.g. 12345,67891,30), got '{text}'");
        }
        Sequence? generated = null;
        var config = Config.Quick
            .WithMaxTest(1)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, gamma), FSharpOption<int>.Some(size))));
        Prop.ForAll(ArbitraryOf(family), sequence =>
        {
            generated ??= sequence;
            return true;
        }).Check(config);
        var result = generated ?? throw new FormatException($"seed {text} generated no sequence");
        return result with { Origin = $"property replay {text}" };
    }
}
