using PatroniModel.Exploration.Exploring;
using PatroniModel.Exploration.Running;
using Xunit;

namespace PatroniModel.Tests.Property.Exploration;

/// <summary>summary.json round trips, and merging shards gives the verdict of the one run they slice.</summary>
public sealed class ExplorationSummaryTests
{
    private static ExplorationSummary Shard(int index, long sequences, long steps, ExplorationFailure? failure = null, bool stopped = false) =>
        new("42", 300, "postgres 15", new Shard(index, 3), 2, sequences, steps, sequences * 1000, 1.5, stopped, failure);

    [Fact]
    public void Merge_WithAFailureInTheMiddleShard_CountsUpToItAndListsTheShardBeyond()
    {
        // Given three shards; the second failed at sequence 130 (its 31st), the third failed too
        var failure = new ExplorationFailure(130, "durability", "2500 bytes lost", "1,3,30", 4, "artifacts/property/x/sequence.json");
        var shards = new[] { Shard(2, 7, 70, failure with { Index = 206 }), Shard(0, 100, 1500), Shard(1, 31, 400, failure) };

        // When they are merged
        var merged = ExplorationSummary.Merge(shards);

        // Then the counts are those of one run that stops at sequence 130, and the third shard is beyond it
        Assert.Equal((131L, 1900L), (merged.Sequences, merged.Steps));
        Assert.Equal(130, merged.Failure?.Index);
        Assert.Equal([2], merged.Beyond.Select(b => b.Shard.Index));
    }

    [Fact]
    public void Merge_OfShardsOfAnotherRunOrWithAShardMissing_SaysWhich()
    {
        // Given shards 0 and 2 of three, and a shard of another seed
        var other = Shard(1, 100, 10) with { Seed = "43" };

        // When merged, Then each problem is one line
        Assert.Equal("missing shards 1/3 of 3", Assert.Throws<InvalidDataException>(() => ExplorationSummary.Merge([Shard(0, 100, 10), Shard(2, 100, 10)])).Message);
        Assert.StartsWith("shard 1/3 is of another run (seed 43", Assert.Throws<InvalidDataException>(() => ExplorationSummary.Merge([Shard(0, 100, 10), other, Shard(2, 100, 10)])).Message);
        Assert.Equal("shard 0/3 is given twice", Assert.Throws<InvalidDataException>(() => ExplorationSummary.Merge([Shard(0, 100, 10), Shard(0, 100, 10)])).Message);
    }

    [Fact]
    public void SummaryJson_WrittenAndLoaded_IsTheSameSummary()
    {
        // Given a summary with a failure
        var summary = Shard(1, 31, 400, new ExplorationFailure(130, "durability", "lost", "1,3,30", 4, null));
        var path = Path.Combine(Path.GetTempPath(), $"pm-summary-{Guid.NewGuid():N}.json");
        try
        {
            // When it is written and read back
            File.WriteAllText(path, summary.ToJson());
            var loaded = ExplorationSummary.Load(path);

            // Then nothing is lost, and the command repeats exactly that shard
            Assert.Equal(summary, loaded);
            Assert.Equal("patroni-model explore --seed 42 --runs 300 --shard 1/3", loaded.Command());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("{}", "not a patroni-model/explore-summary@1 file")]
    [InlineData("{\"format\": \"patroni-model/explore-summary@1\", \"seed\": \"1\"}", "field 'runs' is missing or not a Int32")]
    [InlineData("not json", "not JSON")]
    public void Load_OfAMalformedSummary_NamesTheFileAndTheProblem(string text, string problem)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pm-summary-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, text);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => ExplorationSummary.Load(path));
            Assert.StartsWith($"{path}: ", e.Message);
            Assert.Contains(problem, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
