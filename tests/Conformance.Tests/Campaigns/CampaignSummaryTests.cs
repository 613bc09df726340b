using System.Collections.Immutable;
using PatroniModel.Conformance.Campaigns;
using PatroniModel.Exploration.Exploring;
using PatroniModel.Scenarios.Faults;
using Xunit;

namespace PatroniModel.Tests.ConformanceTests.Campaigns;

public sealed class CampaignSummaryTests
{
    private static CampaignEntry Entry(long index, CampaignVerdict verdict, string? kind = null, params string[] differences) => new(
        index, $"{index},1,{index % CampaignSequences.Sizes}", 5, "3 members", verdict,
        verdict == CampaignVerdict.Disagree ? 2 : null, kind, [.. differences.Select(CampaignEntry.FieldOf).Distinct()], [.. differences],
        verdict == CampaignVerdict.Error ? "no writable leader within 2 min" : null, 20.5, 10.25, $"sequences/{index:D5}");

    private static CampaignSummary Summary(Shard shard, params CampaignEntry[] entries) =>
        new("42", 4, SequenceFamily.Default, shard, CampaignSequences.Profile, [.. entries], 100, false);

    [Theory]
    [InlineData("pg2 state: model running, reality stopped", "member state")]
    [InlineData("reconcile s1 outcome: model FoundAhead, reality Found", "reconcile outcome")]
    [InlineData("reality: replica pg2 at 0/5000000 is past leader pg1 at 0/4000000", "replica past leader")]
    [InlineData("slots on the leader: model [s2], reality []", "slots on the leader")]
    [InlineData("leader: model none, reality pg3", "leader")]
    [InlineData("members holding the leader's rows: model [pg1], reality [pg1,pg2]", "members holding the leader's rows")]
    public void FieldOf_NamesTheComparedField_WithoutMemberOrSlotNames(string difference, string field) =>
        Assert.Equal(field, CampaignEntry.FieldOf(difference));

    [Fact]
    public void Summary_CountsAgreementByStepKindAndField()
    {
        // Given four sequences: two agree, one disagrees in two fields at a switchover, one could not run
        var summary = Summary(Shard.Whole,
            Entry(0, CampaignVerdict.Agree),
            Entry(1, CampaignVerdict.Disagree, StepKinds.Switchover, "step status: model Ok, reality Refused", "pg2 role: model leader, reality replica"),
            Entry(2, CampaignVerdict.Agree),
            Entry(3, CampaignVerdict.Error));

        // Then the rate counts the error against agreement, and each field of the disagreement is counted once
        Assert.Equal(0.5, summary.AgreementRate);
        Assert.Equal("agreed 2 of 4 (50.0%), 1 disagreed, 1 errors", summary.Counts());
        Assert.Equal(1, summary.ByStepKind[StepKinds.Switchover]);
        Assert.Equal(["member role", "step status"], summary.ByField.Keys);
        Assert.Equal(20.5, summary.MedianSeconds);
        Assert.Equal("patroni-model conform --seed 42 --runs 4", summary.Command());
    }

    [Fact]
    public void Json_RoundTrips_EveryEntryAndFigure()
    {
        // Given a summary with every kind of entry, a shrunk disagreement among them
        var shrunk = Entry(1, CampaignVerdict.Disagree, StepKinds.Reconcile, "reconcile s1 outcome: model FoundAhead, reality Found")
            with { Shrunk = new ShrunkDisagreement("sequences/00001/shrunk.json", 3, 7, BudgetExhausted: false) };
        var summary = Summary(new Shard(1, 2), Entry(0, CampaignVerdict.Agree), shrunk, Entry(3, CampaignVerdict.Error));
        var path = Path.Combine(Path.GetTempPath(), $"campaign-{Guid.NewGuid():N}.json");

        // When it is written and read back
        File.WriteAllText(path, summary.ToJson());
        var loaded = CampaignSummary.Load(path);
        File.Delete(path);

        // Then nothing is lost
        Assert.Equal(summary.Seed, loaded.Seed);
        Assert.Equal(summary.Shard, loaded.Shard);
        Assert.Equal(summary.Entries.Length, loaded.Entries.Length);
        for (var i = 0; i < summary.Entries.Length; i++)
        {
            var (a, b) = (summary.Entries[i], loaded.Entries[i]);
            Assert.Equal((a.Index, a.Replay, a.Verdict, a.Step, a.StepKind, a.Error, a.Artifacts, a.Shrunk), (b.Index, b.Replay, b.Verdict, b.Step, b.StepKind, b.Error, b.Artifacts, b.Shrunk));
            Assert.Equal(a.Differences.ToArray(), b.Differences.ToArray());
            Assert.Equal(a.Fields.ToArray(), b.Fields.ToArray());
        }
        Assert.Equal(summary.Counts(), loaded.Counts());
    }

    [Fact]
    public void Load_RejectsAnotherFormat_InOneLineNamingTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"campaign-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"format": "patroni-model/explore-summary@1"}""");
        var error = Assert.Throws<InvalidDataException>(() => CampaignSummary.Load(path));
        File.Delete(path);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Merge_OfTwoShards_EqualsOneRunOfTheSameSeedAndCount()
    {
        // Given one run of 4 sequences and the same run as two shards, in either order
        var whole = Summary(Shard.Whole, Entry(0, CampaignVerdict.Agree), Entry(1, CampaignVerdict.Disagree, StepKinds.Kill, "pg1 state: model stopped, reality running"),
            Entry(2, CampaignVerdict.Agree), Entry(3, CampaignVerdict.Agree));
        var first = Summary(new Shard(0, 2), whole.Entries[0], whole.Entries[1]);
        var second = Summary(new Shard(1, 2), whole.Entries[2], whole.Entries[3]);

        // When the shards are merged
        var merged = CampaignSummary.Merge([second, first]);

        // Then the merged summary is the whole run's, entry by entry
        Assert.Equal(Shard.Whole, merged.Shard);
        Assert.Equal(whole.ToJson(), merged.ToJson());
        Assert.Equal(whole.Counts(), merged.Counts());
        Assert.Equal(whole.ByField, merged.ByField);
    }

    [Fact]
    public void Merge_RefusesMissingRepeatedOrForeignShards()
    {
        var first = Summary(new Shard(0, 2), Entry(0, CampaignVerdict.Agree));
        var second = Summary(new Shard(1, 2), Entry(2, CampaignVerdict.Agree));
        Assert.Contains("missing shards 1/2", Assert.Throws<InvalidDataException>(() => CampaignSummary.Merge([first])).Message, StringComparison.Ordinal);
        Assert.Contains("given twice", Assert.Throws<InvalidDataException>(() => CampaignSummary.Merge([first, first, second])).Message, StringComparison.Ordinal);
        Assert.Contains("another campaign", Assert.Throws<InvalidDataException>(() => CampaignSummary.Merge([first, second with { Seed = "43" }])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sequences_DependOnSeedAndIndexOnly_AndStayShort()
    {
        // Given the same campaign index asked twice, and indices across every size of the profile
        var a = CampaignSequences.At(SequenceFamily.Default, 7, 5);
        var b = CampaignSequences.At(SequenceFamily.Default, 7, 5);
        var all = Enumerable.Range(0, 2 * CampaignSequences.Sizes).Select(i => CampaignSequences.At(SequenceFamily.Default, 7, i)).ToList();

        // Then they are the same sequence, each replayable from its point, and every sequence is short enough for reality
        Assert.Equal(Scenarios.Sequences.SequenceFile.Write(a), Scenarios.Sequences.SequenceFile.Write(b));
        Assert.All(Enumerable.Range(0, all.Count), i => Assert.Equal(i % CampaignSequences.Sizes, CampaignSequences.PointOf(7, i).Size));
        var regenerated = SeedReplay.Regenerate(CampaignSequences.PointOf(7, 5).ToString());
        Assert.Equal(a.Steps.Select(Scenarios.Sequences.SequenceFile.StepJson), regenerated.Steps.Select(Scenarios.Sequences.SequenceFile.StepJson));
        Assert.All(all, s => Assert.InRange(s.Steps.Length, 1, 40));
        Assert.Contains("index 5", a.Origin, StringComparison.Ordinal);
    }

    [Fact]
    public void ReportPage_ShowsTheRateEveryRowAndEscapesText()
    {
        // Given a summary whose difference text holds HTML
        var summary = Summary(Shard.Whole, Entry(0, CampaignVerdict.Agree),
            Entry(1, CampaignVerdict.Disagree, StepKinds.Reconcile, "reconcile s1 outcome: model <b>x</b>, reality Found"));

        // When its page is rendered
        var html = CampaignReportPage.Render(summary);

        // Then the rate, one row per sequence with links to its evidence, and the escaped difference are there
        Assert.Contains("50.0% agree", html, StringComparison.Ordinal);
        Assert.Equal(2, html.Split("<tr class=\"").Length - 1);
        Assert.Contains("href=\"sequences/00001/timeline.html\"", html, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;x&lt;/b&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>x</b>", html, StringComparison.Ordinal);
        Assert.Contains("id=\"by-field\"", html, StringComparison.Ordinal);
    }
}
