using FsCheck;
using PatroniModel.Exploration.Running;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Exploration.Exploring;

namespace PatroniModel.Tests.Property.Exploration;

/// <summary>
/// The arbitrary for <c>[Property(Arbitrary = [typeof(SequenceArbitraries)], Replay = "seed,gamma,size")]</c> regression tests:
/// the explorer's own, so a replay string printed by the suite or by <c>patroni-model explore</c> regenerates the same sequence.
/// </summary>
public static class SequenceArbitraries
{
    public static Arbitrary<Sequence> Sequence() => Explorer.Arbitrary;
}
