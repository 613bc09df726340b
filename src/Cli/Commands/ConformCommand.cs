using System.CommandLine;
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
    public const int DefaultRuns = 20;

    public static Command Create()
    {
        var runs = Options.WholeNumber("--runs", "N", "sequences in the campaign", DefaultRuns, 1, 100_000);
        var seed = Options.Parsed<ulong?>("--seed", "S", "seed of the campaign (a whole number from 0 to 18446744073709551615; default: a fresh seed, printed)",
            text => ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new UsageException($"--seed must be a whole number, got '{text}'"));
        var postgres = ExploreCommand.PostgresOption("the generator: 15, or 17 for the PostgreSQL 17 failover-slot sequences");
        var shard = ExploreCommand.ShardOption("run the i-th of n contiguous slices of the campaign");
        var outDirectory = Options.Text("--out", "DIR", "where summary.json, report.html and one folder per sequence go (default: artifacts/conform/<utc>/)");
        var shrinkBudget = Options.Parsed<(int Replays, int Minutes)?>("--shrink-budget", "REPLAYS[,MINUTES]",
            "shrink each disagreement on reality with at most REPLAYS replays (0 to 1000) and MINUTES minutes (1 to 1440, default 30); default 0: no shrinking",
            text => ShrinkBudget(text));
        var command = new CommandWithExitCodes("conform",
            "A conformance campaign: N generated sequences, each on the model and on a fresh real Patroni cluster in Docker, "
            + "compared step by step; writes DIR/summary.json and DIR/report.html after every sequence.",
            "exit codes: 0 every sequence agreed, 1 any disagreement or error, 2 bad input or no Docker engine,\n"
            + "            130 stopped by Ctrl-C or SIGTERM (after the report of what ran)")
        {
            runs, seed, postgres, shard, outDirectory, shrinkBudget, MergeCommand(),
        };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(runs), parse.GetValue(seed) ?? (ulong)Random.Shared.NextInt64(1, long.MaxValue),
            ExploreCommand.Family(parse.GetValue(postgres)), parse.GetValue(shard) ?? Shard.Whole, parse.GetValue(outDirectory), parse.GetValue(shrinkBudget) ?? ShrinkBudget(null)));
        return command;
    }

    private static Command MergeCommand()
    {
        var folders = new Argument<string[]>("DIR") { Arity = ArgumentArity.ZeroOrMore, Description = "the shards' folders (or their summary.json files)" };
        var outDirectory = Options.Text("--out", "DIR", "write the merged summary.json and report.html there");
        var merge = new CommandWithExitCodes("merge", "Merges shards' summaries into one report.",
            "exit codes: 0 every sequence agreed, 1 any disagreement or error, 2 bad input or a shard missing, 130 a shard was stopped")
        {
            folders, outDirectory,
        };
        merge.SetAction(parse => Merge(parse.GetValue(folders) ?? [], parse.GetValue(outDirectory)));
        return merge;
    }

    private static async Task<int> RunAsync(int runs, ulong seed, SequenceFamily family, Shard shard, string? outDirectory, (int Replays, int Minutes) budget)
    {
        var (replays, minutes) = budget;
        var directory = outDirectory ?? Path.Combine(ArtifactFolder.Root, "conform", DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));
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

    private static int Merge(string[] given, string? outDirectory)
    {
        if (given.Length == 0)
        {
            throw new UsageException("conform merge needs the shards' folders (conform merge DIR... [--out DIR])");
        }
        var summaries = new List<CampaignSummary>();
        var folders = new List<string>();
        foreach (var folder in given)
        {
            var path = Directory.Exists(folder) ? Path.Combine(folder, CampaignSummary.FileName) : folder;
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
