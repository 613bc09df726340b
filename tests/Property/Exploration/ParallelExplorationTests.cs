using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Properties;
using PatroniModel.Exploration.Exploring;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.Property.Exploration;

/// <summary>
/// Exploration on several workers and in shards is the same run as on one: sequence <c>i</c> depends only on the seed and
/// <c>i</c>, and the reported failure is the lowest-index one.
/// </summary>
public sealed class ParallelExplorationTests(ITestOutputHelper output)
{
    [Fact]
    public void Explore_OnOneTwoAndFourWorkers_GivesTheSameCountsFailureAndShrunkSequence()
    {
        // Given the model with a planted bug that the lagging-candidate episodes find
        var options = new ModelOptions { PlantedBugPromoteBeyondMaximumLag = true };
        var explorer = new Explorer(() => ModelClusterFactory.WithOwnRuntime(options));

        // When the same seed and run count are explored on 1, 2 and 4 workers
        var reports = new[] { 1, 2, 4 }.Select(workers =>
            explorer.Explore(new ExplorationSettings(Seed: 6, Runs: 2_000, Workers: workers), generator: Explorer.LaggingCandidateArbitrary)).ToList();

        // Then each finds the same first failure after the same sequences and steps, shrunk to the same sequence
        var first = reports[0];
        Assert.True(first.Failure is not null, $"the planted bug was not found: {first.Summary()}");
        output.WriteLine($"first failure at sequence {first.FailureIndex} (replay {first.Failure.Replay}): {first.Failure.Shrunk.Violation}");
        Assert.Equal(PropertyLabels.Durability, first.Failure.Shrunk.Violation?.Label);
        Assert.Equal(first.FailureIndex + 1, first.Sequences);
        foreach (var other in reports.Skip(1))
        {
            Assert.Equal((first.Sequences, first.Steps, first.FailureIndex), (other.Sequences, other.Steps, other.FailureIndex));
            Assert.Equal(first.Failure.Replay, other.Failure!.Replay);
            Assert.Equal(first.Failure.Shrunk.History(), other.Failure.Shrunk.History());
        }
    }

    [Fact]
    public void Explore_OnFourWorkersWithoutAFailure_CountsEverySequenceAndStepAsOneWorkerDoes()
    {
        // Given the correct model
        var explorer = new Explorer(() => ModelClusterFactory.WithOwnRuntime());

        // When 400 sequences are explored on one worker and on four
        var one = explorer.Explore(new ExplorationSettings(Seed: 99, Runs: 400, Workers: 1));
        var four = explorer.Explore(new ExplorationSettings(Seed: 99, Runs: 400, Workers: 4));

        // Then both ran every sequence, to the same steps and the same simulated time
        Assert.Null(one.Failure);
        Assert.Equal(400, one.Sequences);
        Assert.Equal((one.Sequences, one.Steps, one.VirtualMilliseconds), (four.Sequences, four.Steps, four.VirtualMilliseconds));
    }

    [Fact]
    public void Explore_TheRunCount_DoesNotChangeWhichSequencesASeedProduces()
    {
        // Given the correct model
        var explorer = new Explorer(() => ModelClusterFactory.WithOwnRuntime());

        // When a run of 200 sequences and the first fifth (shard 0/5) of a run of 1,000 are explored
        var shortRun = explorer.Explore(new ExplorationSettings(Seed: 5, Runs: 200, Workers: 2));
        var firstFifth = explorer.Explore(new ExplorationSettings(Seed: 5, Runs: 1_000, Workers: 2, Shard: new Shard(0, 5)));

        // Then they are the same 200 sequences: the same steps and simulated time
        Assert.Equal((200L, shortRun.Steps, shortRun.VirtualMilliseconds), (firstFifth.Sequences, firstFifth.Steps, firstFifth.VirtualMilliseconds));
    }

    [Fact]
    public void GeneratedSequence_ReplayedFromItsReplayString_IsTheSameSequence()
    {
        // Given sequence 123 of seed 42 and its printed replay point
        var sequence = GeneratedSequences.At(Explorer.Arbitrary, 42, null, 123);
        var point = ReplayPoint.TryParse(GeneratedSequences.PointOf(42, null, 123).ToString())!;

        // When it is regenerated from the replay string alone
        var replayed = GeneratedSequences.FromReplay(Explorer.Arbitrary, point);

        // Then it is the same sequence, step by step
        Assert.Equal(sequence.History(), replayed.History());
        Assert.NotEqual(sequence.History(), GeneratedSequences.At(Explorer.Arbitrary, 42, null, 124).History());
    }
}
