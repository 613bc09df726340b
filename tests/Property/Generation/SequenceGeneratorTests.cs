using FsCheck;
using FsCheck.Fluent;
using PatroniModel.Exploration.Generation;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Sequences;
using Xunit;

namespace PatroniModel.Tests.Property.Generation;

public sealed class SequenceGeneratorTests
{
    private static IReadOnlyList<Sequence> Sample(int count, ulong seed = 42) =>
        [.. SequenceGenerators.Sequences().Sample(count, new Rnd(seed), 60)];

    [Fact]
    public void Sequences_Generated_AllMakeSenseStepByStep()
    {
        // Given / When two thousand generated sequences
        var sequences = Sample(2_000);

        // Then every step passes the preconditions, every member name exists and every config is valid
        Assert.All(sequences, s =>
        {
            Assert.True(GenerationState.Admits(s.Config, s.Steps), s.History());
            SequenceFile.Validate(s);
        });
    }

    [Fact]
    public void Sequences_Generated_CoverEveryStepKindAndConfigurationShape()
    {
        // Given / When
        var sequences = Sample(2_000);

        // Then every step kind appears, and 3/5 members, every synchronous mode, with and without permanent slots
        var kinds = sequences.SelectMany(s => s.Steps).Select(s => s.Kind).ToHashSet();
        Assert.Empty(StepKinds.All.Except(kinds));
        Assert.Equal([3, 5], sequences.Select(s => s.Config.Members).Distinct().Order());
        Assert.Equal(3, sequences.Select(s => s.Config.SynchronousMode).Distinct().Count());
        Assert.Contains(sequences, s => s.Config.PermanentSlots.IsEmpty);
        Assert.Contains(sequences, s => !s.Config.PermanentSlots.IsEmpty);
    }

    [Fact]
    public void Sequences_Generated_OftenHaveTheInterestingInterleaving()
    {
        // Given / When
        var sequences = Sample(1_000);

        // Then most have a slot consumed, then a fault on a member, then a reconcile of that slot
        static bool Interesting(Sequence s)
        {
            var consumed = s.Steps.Select((step, i) => (step, i)).Where(x => x.step is Consume).Select(x => x.i).DefaultIfEmpty(-1).Min();
            if (consumed < 0)
            {
                return false;
            }
            var fault = s.Steps.Skip(consumed).FirstOrDefault(x => x is Switchover or Kill or Freeze or Partition or Failover or Restart or PatchConfig);
            return fault is not null && s.Steps.Skip(s.Steps.IndexOf(fault)).Any(x => x is Reconcile);
        }
        Assert.True(sequences.Count(Interesting) > 500, $"only {sequences.Count(Interesting)} of 1000");
    }

    [Fact]
    public void Sequences_SameSeed_SameSequences()
    {
        // Given / When the same FsCheck seed twice
        var first = Sample(50, seed: 9).Select(SequenceFile.Write);
        var second = Sample(50, seed: 9).Select(SequenceFile.Write);

        // Then the same sequence files
        Assert.Equal(first, second);
    }

    [Fact]
    public void Refusal_ThawOfARunningMember_IsRefused()
    {
        // Given a fresh 3-member cluster
        var state = GenerationState.Initial(ClusterConfig.Default);

        // When / Then a thaw, heal or start of a running member makes no sense, a freeze does
        Assert.NotNull(state.Refusal(new Thaw("pg2")));
        Assert.NotNull(state.Refusal(new Heal("pg2")));
        Assert.NotNull(state.Refusal(new Start("pg2")));
        Assert.Null(state.Refusal(new Freeze("pg2")));
        Assert.Null(state.After(new Freeze("pg2")).Refusal(new Thaw("pg2")));
    }

    [Fact]
    public void Refusal_SwitchoverWithoutAHealthyReplica_IsRefused()
    {
        // Given a cluster where both replicas are down
        var state = GenerationState.Initial(ClusterConfig.Default).After(new Kill("pg2")).After(new Freeze("pg3"));

        // When / Then
        Assert.NotNull(state.Refusal(new Switchover("pg1", "pg2")));
        Assert.NotNull(state.Refusal(new Switchover("pg1")));
        Assert.NotNull(state.Refusal(new Kill("pg1")));
    }

    [Fact]
    public void Benchmark_Sequences_HaveExactlyTheAskedLengthAndMembers()
    {
        // Given / When
        var sequences = SequenceGenerators.Sequences(30, 5).Sample(100, new Rnd(1), 50);

        // Then
        Assert.All(sequences, s =>
        {
            Assert.Equal(30, s.Steps.Length);
            Assert.Equal(5, s.Config.Members);
        });
    }

    [Fact]
    public void LaggingCandidateSequences_Generated_MakeSenseAndEndWithTheLeaderDying()
    {
        // Given / When
        var sequences = SequenceGenerators.LaggingCandidateSequences().Sample(500, new Rnd(3), 50);

        // Then every step passes the preconditions, and most end with a long wait after a fault on a member
        Assert.All(sequences, s => Assert.True(GenerationState.Admits(s.Config, s.Steps), s.History()));
        Assert.True(sequences.Count(s => s.Steps.Length >= 2 && s.Steps[^1] is Wait && s.Steps[^2] is Kill or Freeze or Partition) > 400);
    }
}
