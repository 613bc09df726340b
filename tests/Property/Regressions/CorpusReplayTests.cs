using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Running;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Tests.Property.Exploration;
using Xunit;

namespace PatroniModel.Tests.Property.Regressions;

/// <summary>
/// Every sequence of the conformance corpus (tests/E2E/Corpus) on the model, every property checked after every step: the
/// corpus is otherwise replayed only beside reality in E2E. Corpus 04's probe from FFFFFFFF/0 made the duplicates property
/// expect a negative distance (a signed cast in <c>Lsn.BytesAfter</c>) until distances of 2^63 or more saturated.
/// </summary>
public sealed class CorpusReplayTests(ModelRuntimeFixture fixture) : IClassFixture<ModelRuntimeFixture>
{
    public static TheoryData<string> Files => [.. Corpus.FileNames];

    [Theory]
    [MemberData(nameof(Files))]
    public void CorpusSequence_OnTheModel_EveryPropertyHolds(string file)
    {
        // Given a corpus sequence
        var path = Path.Combine(Corpus.Directory, file);
        var sequence = SequenceFile.Load(path);

        // When it runs on the model with the product's reconciler
        var outcome = SequenceRunner.Run(new ModelClusterFactory(fixture.Runtime), sequence);

        // Then every property holds on every step
        Assert.True(outcome.Passed, $"{file}: {outcome.Violation}\n{outcome.History()}");
    }
}
