using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Exploration.Exploring;

/// <summary>
/// Where an exploration's sequences come from: sequence <c>i</c> of a run with seed <c>S</c> is the one FsCheck generates
/// from a random state and a size derived from <c>(S, i)</c> alone. So the run count does not change which sequences a
/// seed produces (a long run's first N sequences are the short run's), any worker or shard can generate any index, and
/// each sequence has its own FsCheck replay string <c>seed,gamma,size</c> (<c>patroni-model replay --seed</c>,
/// <c>[Property(Replay = ...)]</c>).
/// </summary>
public static class GeneratedSequences
{
    /// <summary>Sizes cycle through FsCheck's default range (0..99), so every size recurs whatever the run count.</summary>
    public const int Sizes = 100;

    /// <summary>The FsCheck random state and size of sequence <paramref name="index"/> of a run seeded <paramref name="seed"/>.</summary>
    public static ReplayPoint PointOf(ulong seed, ulong? gamma, long index)
    {
        var state = SplitMix(seed ^ SplitMix((gamma ?? 0x9E3779B97F4A7C15UL) + (ulong)index));
        return new ReplayPoint(SplitMix(state), SplitMix(state ^ 0xD1B54A32D192ED03UL) | 1, (int)(index % Sizes));
    }

    /// <summary>Sequence <paramref name="index"/> of a run seeded <paramref name="seed"/>, from <paramref name="generator"/>.</summary>
    public static Sequence At(Arbitrary<Sequence> generator, ulong seed, ulong? gamma, long index) =>
        FromReplay(generator, PointOf(seed, gamma, index));

    /// <summary>
    /// The sequence FsCheck generates for a replay point: the first case of a one-test check replayed from that random
    /// state is exactly the sequence a <c>[Property(Replay = "seed,gamma,size")]</c> test gets.
    /// </summary>
    public static Sequence FromReplay(Arbitrary<Sequence> generator, ReplayPoint point)
    {
        Sequence? generated = null;
        var config = Config.Quick
            .WithMaxTest(1)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(point.Seed, point.Gamma), FSharpOption<int>.Some(point.Size))));
        Prop.ForAll(generator, sequence =>
        {
            generated ??= sequence;
            return true;
        }).Check(config);
        return generated ?? throw new InvalidOperationException($"replay point {point} generated no sequence");
    }

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}

/// <summary>An FsCheck random state and size: printed <c>seed,gamma,size</c>, as a property failure prints its replay.</summary>
public sealed record ReplayPoint(ulong Seed, ulong Gamma, int Size)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Seed},{Gamma},{Size}");

    /// <summary>Parses <c>seed,gamma,size</c>; null when the text is not three whole numbers.</summary>
    public static ReplayPoint? TryParse(string text)
    {
        var parts = text.Split(',');
        return parts.Length == 3
               && ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seed)
               && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var gamma)
               && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            ? new ReplayPoint(seed, gamma, size)
            : null;
    }
}
