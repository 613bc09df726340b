using System.Globalization;
using PatroniModel.Conformance.Campaigns;
using PatroniModel.Exploration.Exploring;
using PatroniModel.Scenarios.Artifacts;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// <c>patroni-model conform [--runs N] [--seed S] [--postgres 17] [--shard i/n] [--out DIR] [--shrink-budget R[,M]]</c>: a
/// conformance campaign (<see cref="Campaign"/>): N generated sequences, each on the model and on a fresh real Patroni
/// cluster in Docker, compared step by step. Writes <c>DIR/summary.json</c> and <c>DIR/report.html</c> after every
/// sequence (default DIR: <c>artifacts/conform/&lt;utc&gt;/</c>) and one folder per sequence with its evidence.
/// <c>--shrink-budget R[,M]</c> shrinks each disagreement on reality with at most R replays and M minutes (default 0: no
/// shrinking). <c>patroni-model conform merge DIR...</c> merges shards' summaries into one report (<c>--out DIR</c>).
/// Exit codes: 0 every sequence agreed, 1 any disagreement or error, 2 bad input or no Docker engine, 130 stopped by
/// Ctrl-C or SIGTERM (after the report of what ran).
/// </summary>
public static class ConformCommand
{
    public const string Usage =
        "conform [--runs N] [--seed S] [--postgres 17] [--shard i/n] [--out DIR] [--shrink-budget REPLAYS[,MINUTES]] | conform merge DIR... [--out DIR]";

    public const int DefaultRuns = 20;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "merge")
        {
            return Merge(args[1..]);
        }
        var options = new Options(args, new HashSet<string>(), new HashSet<string> { "--seed", "--runs", "--postgres", "--shard", "--out", "--shrink-budget" });
        if (options.Positional.Count > 0)
        {
            throw new UsageException($"conform takes no argument '{options.Positional[0]}' ({Usage})");
        }
        var family = ExploreCommand.Family(options);
        var runs = options.Int("--runs", DefaultRuns, max: 100_000);
        var shard = options.String("--shard") is { } shardText
            ? Shard.TryParse(shardText) ?? throw new UsageException($"--shard must be i/n with 0 <= i < n <= 100000, got '{shardText}'")
            : Shard.Whole;
        var seedText = options.String("--seed");
        ulong seed;
        if (seedText is null)
        {
            seed = (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        }
        else if (!ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
        {
            throw new UsageException($"--seed must be a whole number, got '{seedText}'");
        }
        var (replays, minutes) = ShrinkBudget(options.String("--shrink-budget"));
        var directory = options.String("--out") ?? Path.Combine(ArtifactFolder.Root, "conform", DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));
        ExploreCommand.PrepareOut(directory);

        using var interrupt = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            interrupt.Cancel();
        });
        var output = new ProgressOutput();
        var total = shard.End(runs) - shard.Start(runs);
        var slice = shard.Count > 1 ? $" (shard {shard}: sequences {shard.Start(runs)}..{shard.End(runs) - 1})" : "";
        output.Line($"conformance campaign: {runs} {(family == SequenceFamily.FailoverSlots ? "PostgreSQL 17 failover-slot " : "")}sequences, seed {seed}{slice}, on the model and on real Patroni clusters in Docker");
        output.Line($"profile: {CampaignSequences.Profile}");
        output.Line($"report: {Path.Combine(directory, CampaignReportPage.FileName)}");
        var campaign = new Campaign(
            new CampaignSettings(seed, runs, family, shard, directory, replays, TimeSpan.FromMinutes(minutes)),
            line => output.Line($"  {line}"));
        CampaignSummary summary;
        try
        {
            summary = await campaign.RunAsync((entry, sofar) =>
            {
                var done = sofar.Entries.Length;
                var eta = TimeSpan.FromSeconds(sofar.MeanSeconds * (total - done));
                output.Step(string.Create(CultureInfo.InvariantCulture,
                    $"[{done}/{total}] sequence {entry.Index}: {entry.Verdict.ToString().ToLowerInvariant()} in {entry.Seconds:0.0} s (bring-up {entry.BringUpSeconds:0.0} s); {sofar.Counts()}; about {eta.TotalMinutes:0} min left"),
                    entry.Verdict == CampaignVerdict.Agree);
            }, interrupt.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        output.Line($"report: {Path.Combine(directory, CampaignReportPage.FileName)}; summary: {Path.Combine(directory, CampaignSummary.FileName)}");
        output.Line($"seed {seed}; repeat with: {summary.Command()}");
        output.Verdict($"campaign: {summary.Counts()}", summary.Agreed == summary.Entries.Length);
        return summary.Stopped ? ExitCodes.Interrupted : summary.Agreed == summary.Entries.Length ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary><c>R</c> or <c>R,M</c>: replays (0..1000) and minutes (1..1440, default 30).</summary>
    private static (int Replays, int Minutes) ShrinkBudget(string? text)
    {
        if (text is null)
        {
            return (0, 30);
        }
        var parts = text.Split(',');
        if (parts.Length is 1 or 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var replays) && replays <= 1000
            && (parts.Length == 1 || (int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m is >= 1 and <= 1440)))
        {
            return (replays, parts.Length == 1 ? 30 : int.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        throw new UsageException($"--shrink-budget must be REPLAYS (0..1000) or REPLAYS,MINUTES (minutes 1..1440), got '{text}'");
    }

    private static int Merge(string[] args)
    {
        var options = new Options(args, new HashSet<string>(), new HashSet<string> { "--out" });
        if (options.Positional.Count == 0)
        {
            throw new UsageException("conform merge needs the shards' folders (conform merge DIR... [--out DIR])");
        }
        var summaries = new List<CampaignSummary>();
        var folders = new List<string>();
        foreach (var given in options.Positional)
        {
            var path = Directory.Exists(given) ? Path.Combine(given, CampaignSummary.FileName) : given;
            if (!File.Exists(path))
            {
                throw new UsageException($"{path}: no such file (each shard writes it with conform --out DIR)");
            }
            try
            {
                summaries.Add(CampaignSummary.Load(path));
            }
            catch (InvalidDataException e)
            {
                throw new UsageException(e.Message);
            }
            folders.Add(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        var outDirectory = options.String("--out");
        if (outDirectory is not null)
        {
            ExploreCommand.PrepareOut(outDirectory);
        }
        CampaignSummary merged;
        try
        {
            merged = CampaignSummary.Merge(summaries, folders, outDirectory is null ? null : Path.GetFullPath(outDirectory));
        }
        catch (InvalidDataException e)
        {
            throw new UsageException(e.Message);
        }
        Console.WriteLine($"merged {summaries.Count} shards of seed {merged.Seed}, {merged.Runs} runs ({CampaignSummary.FamilyName(merged.Family)}): {merged.Counts()}");
        if (outDirectory is not null)
        {
            Campaign.WriteAtomically(Path.Combine(outDirectory, CampaignSummary.FileName), merged.ToJson());
            Campaign.WriteAtomically(Path.Combine(outDirectory, CampaignReportPage.FileName), CampaignReportPage.Render(merged));
            Console.WriteLine($"report: {Path.Combine(outDirectory, CampaignReportPage.FileName)}");
        }
        return merged.Stopped ? ExitCodes.Interrupted : merged.Agreed == merged.Entries.Length ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
