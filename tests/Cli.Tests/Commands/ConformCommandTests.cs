using System.Diagnostics;
using PatroniModel.Conformance.Campaigns;
using PatroniModel.Exploration.Exploring;
using Xunit;

namespace PatroniModel.Tests.CliTests.Commands;

/// <summary><c>patroni-model conform</c> without a Docker engine: bad input, merging shards' reports.</summary>
public sealed class ConformCommandTests : IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), $"conform-cli-{Guid.NewGuid():N}");

    public ConformCommandTests() => Directory.CreateDirectory(_work);

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static async Task<(int Exit, string Out, string Err)> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "patroni-model.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await stdout, await stderr);
    }

    [Theory]
    [InlineData("--shrink-budget", "many", "--shrink-budget must be REPLAYS (0..1000) or REPLAYS,MINUTES (minutes 1..1440), got 'many'")]
    [InlineData("--seed", "-4", "--seed must be a whole number, got '-4'")]
    [InlineData("--postgres", "16", "--postgres must be 15 or 17, got '16'")]
    [InlineData("--shard", "2/2", "--shard must be i/n with 0 <= i < n <= 100000, got '2/2'")]
    public async Task BadOption_IsOneLineAndExit2_AndStartsNothing(string option, string value, string message)
    {
        var (exit, _, error) = await RunAsync(null, "conform", option, value, "--out", Path.Combine(_work, "out"));

        Assert.Equal(2, exit);
        Assert.Equal($"patroni-model: {message}", error.Trim());
        Assert.False(File.Exists(Path.Combine(_work, "out", CampaignSummary.FileName)));
    }

    [Fact]
    public async Task WithoutADockerEngine_ItSaysSoInOneLine_AndExits2()
    {
        var environment = new Dictionary<string, string> { ["DOCKER_HOST"] = $"unix://{Path.Combine(_work, "no-engine.sock")}" };

        var (exit, _, error) = await RunAsync(environment, "conform", "--runs", "1", "--seed", "3", "--out", Path.Combine(_work, "out"));

        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("Docker", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Merge_OfTwoShardFolders_WritesOneReport_AndExits1WhenAnySequenceDisagreed()
    {
        // Given two shards' folders of one campaign, one sequence disagreeing
        CampaignEntry Entry(long index, CampaignVerdict verdict) => new(index, CampaignSequences.PointOf(5, index).ToString(), 6, "3 members", verdict,
            verdict == CampaignVerdict.Disagree ? 3 : null, verdict == CampaignVerdict.Disagree ? "kill" : null,
            verdict == CampaignVerdict.Disagree ? ["member state"] : [], verdict == CampaignVerdict.Disagree ? ["pg1 state: model stopped, reality running"] : [],
            null, 12, 6, $"sequences/{index:D5}");
        var shards = new[] { new Shard(0, 2), new Shard(1, 2) }.Select(shard => new CampaignSummary(
            "5", 4, SequenceFamily.Default, shard, CampaignSequences.Profile,
            [.. Enumerable.Range((int)shard.Start(4), 2).Select(i => Entry(i, i == 3 ? CampaignVerdict.Disagree : CampaignVerdict.Agree))], 30, false)).ToList();
        var folders = shards.Select(s => Path.Combine(_work, $"shard-{s.Shard.Index}")).ToList();
        for (var i = 0; i < 2; i++)
        {
            Directory.CreateDirectory(folders[i]);
            File.WriteAllText(Path.Combine(folders[i], CampaignSummary.FileName), shards[i].ToJson());
        }
        var merged = Path.Combine(_work, "merged");

        // When they are merged
        var (exit, output, error) = await RunAsync(null, "conform", "merge", folders[1], folders[0], "--out", merged);

        // Then one report of the four sequences, with the artifact links pointing into the shards' folders
        Assert.True(exit == 1, $"exit {exit}: {error}");
        Assert.Contains("merged 2 shards of seed 5, 4 runs (default): agreed 3 of 4 (75.0%), 1 disagreed, 0 errors", output, StringComparison.Ordinal);
        var summary = CampaignSummary.Load(Path.Combine(merged, CampaignSummary.FileName));
        Assert.Equal([0L, 1, 2, 3], summary.Entries.Select(e => e.Index));
        Assert.Equal(Path.Combine("..", "shard-1", "sequences", "00003"), summary.Entries[3].Artifacts);
        Assert.True(File.Exists(Path.Combine(merged, CampaignReportPage.FileName)));
    }

    [Fact]
    public async Task Merge_OfAMissingFolder_IsOneLineAndExit2()
    {
        var (exit, _, error) = await RunAsync(null, "conform", "merge", Path.Combine(_work, "nowhere"));

        Assert.Equal(2, exit);
        Assert.Contains("no such file", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }
}
