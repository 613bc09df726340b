using System.Diagnostics;
using System.Text.RegularExpressions;
using PatroniModel.Conformance.Campaigns;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>
/// A small campaign (<c>patroni-model conform</c>) run as two shards in two processes at the same time on one engine,
/// then merged: each shard runs its own slice on real clusters beside the other's, neither removes the other's live
/// containers (leftovers are only those of runs whose owner is gone), and the merged report has the shape of one run.
/// It asserts the report's shape, not an agreement rate (the campaign figures are in the README).
/// </summary>
[Collection(ConformanceCollection.Name)]
public sealed partial class ConformCampaignTests(ITestOutputHelper output) : IDisposable
{
    private const ulong Seed = 1;
    private const int Runs = 4;
    private readonly string _work = Path.Combine(Path.GetTempPath(), $"conform-e2e-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_work))
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Fact]
    public async Task TwoShardsSideBySide_NeitherRemovesTheOther_AndMergeToOneReport()
    {
        // Given two shards of one campaign, started at the same time on one engine
        var folders = new[] { Path.Combine(_work, "shard-0"), Path.Combine(_work, "shard-1") };
        var shards = await Task.WhenAll(Enumerable.Range(0, 2).Select(i =>
            RunCliAsync("conform", "--runs", $"{Runs}", "--seed", $"{Seed}", "--shard", $"{i}/2", "--out", folders[i])));
        foreach (var (exit, stdout, stderr) in shards)
        {
            output.WriteLine(stdout);
            Assert.True(exit is 0 or 1, $"conform exited {exit}: {stderr}");
        }

        // Then each ran its own slice, with its own runs, and never removed the other's containers
        var runs = shards.Select(s => RunLine().Matches(s.Out).Select(m => m.Groups[1].Value).ToHashSet()).ToArray();
        Assert.All(runs, r => Assert.Equal(2, r.Count));
        for (var i = 0; i < 2; i++)
        {
            var removedLeftovers = string.Join('\n', shards[i].Out.Split('\n').Where(l => l.Contains("removed leftovers", StringComparison.Ordinal)));
            Assert.All(runs[1 - i], other => Assert.DoesNotContain(other, removedLeftovers, StringComparison.Ordinal));
            Assert.All(runs[i], own => Assert.Contains($"resources of run {own}", shards[i].Out, StringComparison.Ordinal));
            var summary = CampaignSummary.Load(Path.Combine(folders[i], CampaignSummary.FileName));
            Assert.Equal([2L * i, 2L * i + 1], summary.Entries.Select(e => e.Index));
            Assert.False(summary.Stopped);
        }

        // When the shards are merged
        var merged = Path.Combine(_work, "merged");
        var (mergeExit, mergeOut, mergeErr) = await RunCliAsync("conform", "merge", folders[0], folders[1], "--out", merged);

        // Then the report covers the four sequences of the one run, each with its replay point and its evidence
        Assert.True(mergeExit is 0 or 1, $"conform merge exited {mergeExit}: {mergeErr}");
        var all = CampaignSummary.Load(Path.Combine(merged, CampaignSummary.FileName));
        Assert.Contains($"merged 2 shards of seed {Seed}, {Runs} runs", mergeOut, StringComparison.Ordinal);
        Assert.Equal([0L, 1, 2, 3], all.Entries.Select(e => e.Index));
        foreach (var entry in all.Entries)
        {
            Assert.Equal(CampaignSequences.PointOf(Seed, entry.Index).ToString(), entry.Replay);
            var evidence = Path.Combine(merged, entry.Artifacts);
            Assert.True(File.Exists(Path.Combine(evidence, "sequence.json")), $"no sequence.json in {evidence}");
            if (entry.Verdict == CampaignVerdict.Disagree)
            {
                Assert.NotNull(entry.StepKind);
                Assert.NotEmpty(entry.Fields);
                Assert.True(File.Exists(Path.Combine(evidence, "pg1.log")), $"no member logs in {evidence}");
            }
            if (entry.Verdict != CampaignVerdict.Error)
            {
                Assert.True(File.Exists(Path.Combine(evidence, "timeline.html")), $"no timeline in {evidence}");
                Assert.InRange(entry.BringUpSeconds, 1, entry.Seconds);
            }
        }
        var report = await File.ReadAllTextAsync(Path.Combine(merged, CampaignReportPage.FileName));
        Assert.Equal(Runs, report.Split("<tr class=\"").Length - 1);
        Assert.Contains("% agree</p>", report, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Out, string Err)> RunCliAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "patroni-model.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        }
        catch (TimeoutException)
        {
            // Killed: its containers are leftovers of a gone owner, which the next run removes.
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    [GeneratedRegex(@"\] run (\S+): members on")]
    private static partial Regex RunLine();
}
