using PatroniModel.Scenarios.Sequences;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>
/// Every corpus sequence (tests/E2E/Corpus) replayed on a fresh real cluster and on the model agrees step by step
/// under <see cref="PatroniModel.Conformance.Comparing.ObservationAbstraction"/>. The etcd3 bug sequence and the
/// planted-bug sequence have tests of their own (<see cref="Etcd3LeaderKeyBugTests"/>, <see cref="PlantedModelBugTests"/>).
/// </summary>
[Collection(ConformanceCollection.Name)]
public sealed class CorpusConformanceTests(ConformanceTimings timings, ITestOutputHelper output)
{
    /// <summary>Corpus files whose expectation is not plain agreement, covered by their own tests.</summary>
    public static readonly IReadOnlySet<string> OwnTests = new HashSet<string>(StringComparer.Ordinal)
    {
        Etcd3LeaderKeyBugTests.File,
        PlantedModelBugTests.File,
    };

    public static TheoryData<string> Files => [.. Corpus.FileNames.Where(f => !OwnTests.Contains(f))];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task CorpusSequence_ReplayedOnRealClusterAndModel_Agrees(string file)
    {
        // Given a corpus sequence
        var sequence = ConformanceReplay.Load(file);

        // When it runs on a fresh real cluster and on the model, step by step
        var report = await ConformanceReplay.RunAsync(Path.GetFileNameWithoutExtension(file), sequence, output, timings);

        // Then they agree on every step
        Assert.True(report.Agrees, report.Verdict);
    }
}
