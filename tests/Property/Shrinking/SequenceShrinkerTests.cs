using System.Collections.Immutable;
using PatroniModel.Exploration.Shrinking;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Sequences;
using Xunit;

namespace PatroniModel.Tests.Property.Shrinking;

/// <summary>The shrinking loop on its own, with any judge (the campaign's judge replays candidates on model and reality).</summary>
public sealed class SequenceShrinkerTests
{
    private static readonly Sequence Failing = new(
        ClusterConfig.Default with { Members = 5, SynchronousMode = SynchronousMode.On, PermanentSlots = ["s1"] },
        [new Write(7), new CreateSlot("s1"), new Freeze("pg2"), new AdvanceWal(1_500_000), new Kill("pg1"), new Wait(15), new Start("pg1"), new Thaw("pg2"), new Reconcile("s1")]);

    [Fact]
    public void Minimise_KeepsOnlyWhatTheJudgeNeeds_WithinTheBudget_AndOnlyRunsCandidatesThatMakeSense()
    {
        // Given a judge that calls a candidate failing (at its kill) when it still kills pg1 and then waits
        var judged = new List<Sequence>();
        int? Judge(Sequence candidate)
        {
            judged.Add(candidate);
            var kill = candidate.Steps.IndexOf(new Kill("pg1"));
            return kill >= 0 && candidate.Steps.Skip(kill).Any(s => s is Wait) ? candidate.Steps.Length - 1 : null;
        }

        // When the failing sequence is minimised
        var (shrunk, runs) = SequenceShrinker.Minimise(Failing, Failing.Steps.Length - 1, Judge, maximumRuns: 200);

        // Then two steps remain (the kill and a shortest wait), the configuration is simplified, and every candidate run was admissible
        Assert.Equal(["kill pg1", "wait 1s"], shrunk.Steps.Select(s => s.ToString()));
        Assert.Equal(3, shrunk.Config.Members);
        Assert.Equal(SynchronousMode.Off, shrunk.Config.SynchronousMode);
        Assert.Equal(runs, judged.Count);
        Assert.All(judged, c => Assert.True(PatroniModel.Exploration.Generation.GenerationState.Admits(c.Config, c.Steps), string.Join(", ", c.Steps)));
    }

    [Fact]
    public void Minimise_StopsAtItsBudget()
    {
        var runs = 0;
        var (shrunk, used) = SequenceShrinker.Minimise(Failing, Failing.Steps.Length - 1, candidate =>
        {
            runs++;
            return candidate.Steps.Length - 1;
        }, maximumRuns: 3);

        Assert.Equal(3, used);
        Assert.Equal(3, runs);
        Assert.True(shrunk.Steps.Length < Failing.Steps.Length);
    }
}
