using PatroniModel.Exploration.Exploring;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Conformance.Campaigns;

/// <summary>
/// The sequences of a conformance campaign: the exploration's own generators (<see cref="SeedReplay.ArbitraryOf"/>, the
/// ones the property suite and <c>explore</c> use), in a real-friendly profile. Sequence <c>i</c> of seed <c>S</c> comes
/// from <see cref="GeneratedSequences.PointOf"/>(S, i) as in <c>explore</c>, but its FsCheck size is <c>i mod
/// <see cref="Sizes"/></c> instead of <c>i mod 100</c>, so a sequence has 4 to 9 drawn steps (plus the healing tail half
/// of the time) instead of up to 36: a real cluster runs one in under a minute. Nothing else is left out: every step
/// kind, configuration (3 or 5 members, synchronous modes, permanent and ignored slots, timings) and episode the
/// generators draw is run as drawn. Each sequence keeps its own replay string, so
/// <c>patroni-model replay --seed &lt;replay&gt; [--postgres 17] --real</c> runs it again.
/// </summary>
public static class CampaignSequences
{
    /// <summary>FsCheck sizes 0..12: 4 to 9 drawn steps.</summary>
    public const int Sizes = 13;

    /// <summary>What the profile leaves out of the exploration's generators, in one line (the report states it).</summary>
    public const string Profile =
        "the exploration generators at FsCheck sizes 0-12 (4 to 9 drawn steps, plus the healing tail half of the time); every step kind and configuration as drawn";

    /// <summary>The FsCheck random state and size of sequence <paramref name="index"/> of campaign <paramref name="seed"/>.</summary>
    public static ReplayPoint PointOf(ulong seed, long index) =>
        GeneratedSequences.PointOf(seed, null, index) with { Size = (int)(index % Sizes) };

    /// <summary>Sequence <paramref name="index"/> of campaign <paramref name="seed"/>, its origin naming the campaign and the replay.</summary>
    public static Sequence At(SequenceFamily family, ulong seed, long index)
    {
        var point = PointOf(seed, index);
        return GeneratedSequences.FromReplay(SeedReplay.ArbitraryOf(family), point) with
        {
            Origin = $"conform campaign seed {seed}{FamilySuffix(family)}, index {index} (replay --seed {point}{FamilySuffix(family)})",
        };
    }

    /// <summary><c>" --postgres 17"</c> for the failover-slot family, else empty: how commands name the family.</summary>
    public static string FamilySuffix(SequenceFamily family) => family == SequenceFamily.FailoverSlots ? " --postgres 17" : "";
}
