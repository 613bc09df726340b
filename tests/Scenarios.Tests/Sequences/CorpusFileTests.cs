using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Sequences;
using Xunit;

namespace PatroniModel.Tests.ScenariosTests.Sequences;

/// <summary>The conformance corpus (tests/E2E/Corpus) is well-formed, canonical, and covers every step kind.</summary>
public sealed class CorpusFileTests
{
    public static TheoryData<string> Files => [.. Corpus.FileNames];

    [Theory]
    [MemberData(nameof(Files))]
    public void CorpusFile_LoadsValidatesAndIsCanonical(string file)
    {
        var path = Path.Combine(Corpus.Directory, file);

        var sequence = SequenceFile.Load(path);
        SequenceFile.Validate(sequence, path);

        Assert.Equal(File.ReadAllText(path), SequenceFile.Write(sequence));
        Assert.NotEmpty(sequence.Description);
        Assert.DoesNotContain('\n', sequence.Description);
    }

    [Fact]
    public void Corpus_HasAtLeastTwelveSequences_CoveringEveryStepKind()
    {
        var sequences = Directory.GetFiles(Corpus.Directory, "*.json").Select(SequenceFile.Load).ToList();

        var kinds = sequences.SelectMany(s => s.Steps).Select(s => s.Kind).ToHashSet();

        Assert.True(sequences.Count >= 12, $"only {sequences.Count} corpus sequences");
        Assert.Empty(StepKinds.All.Except(kinds));
    }
}
