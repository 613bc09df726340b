using System.Globalization;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Exploring;
using Spectre.Console;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// <c>patroni-model explore [--seed S] [--runs N] [--postgres 17] [--workers W] [--shard i/n] [--out DIR]</c>: the property
/// suite's generators and properties on the model, outside xUnit, on <c>W</c> threads (default: every core), each with its own
/// model runtime. <c>--postgres 17</c> explores the PostgreSQL 17 failover-slot sequences instead; <c>--shard i/n</c>
/// explores the i-th of n contiguous slices of the run; <c>--out DIR</c> writes <c>DIR/summary.json</c>.
/// <c>patroni-model explore merge DIR...</c> merges shards' summaries into the verdict of the whole run.
/// Exits 0 when every property held, 1 when one failed (the shrunk sequence is written to
/// <c>artifacts/property/&lt;utc&gt;/sequence.json</c>), 2 on bad input, 130 when stopped by Ctrl-C or SIGTERM (after the partial summary).
/// The same seed and run count explore the same sequences and print the same counts and failure whatever the workers.
/// </summary>
public static class ExploreCommand
{
    public const string Usage = "explore [--seed S] [--runs N] [--postgres 17 | --family wal-boundaries|probes] [--workers W] [--shard i/n] [--out DIR] | explore merge DIR...";

    public static Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "merge")
        {
            return Task.FromResult(Merge(args[1..]));
        }
        var options = new Options(args, new HashSet<string>(), new HashSet<string> { "--seed", "--runs", "--postgres", "--family", "--workers", "--shard", "--out" });
        if (options.Positional.Count > 0)
        {
            throw new UsageException($"explore takes no argument '{options.Positional[0]}' ({Usage})");
        }
        var family = Family(options);
        var generatorName = SequenceFamilyNames.GeneratorOf(family);
        var runs = options.Int("--runs", ExplorationSettings.DefaultRuns, max: 100_000_000);
        var workers = options.Int("--workers", Environment.ProcessorCount, max: 256);
        var shard = options.String("--shard") is { } shardText
            ? Shard.TryParse(shardText) ?? throw new UsageException($"--shard must be i/n with 0 <= i < n <= 100000, got '{shardText}'")
            : Shard.Whole;
        var outDirectory = options.String("--out");
        if (outDirectory is not null)
        {
            PrepareOut(outDirectory);
        }
        var (seed, gamma) = ParseSeed(options.String("--seed"));
        var settings = new ExplorationSettings(seed, runs, gamma, workers, shard);
        // Ctrl-C is handled from before the first line, so a SIGINT at any point stops the run with its summary.
        using var interrupt = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        // SIGTERM too (kubectl delete, CI cancelling a job), and it works where SIGINT is ignored: a shell starts background
        // jobs with SIGINT ignored, and .NET keeps an inherited SIGINT ignore.
        using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            interrupt.Cancel();
        });
        var slice = shard.Count > 1 ? $" (shard {shard}: sequences {shard.Start(runs)}..{shard.End(runs) - 1})" : "";
        var kind = family switch
        {
            SequenceFamily.FailoverSlots => "PostgreSQL 17 failover-slot ",
            SequenceFamily.WalBoundaries => "WAL boundary ",
            SequenceFamily.Probes => "probe ",
            _ => "",
        };
        Console.WriteLine($"exploring {runs} {kind}sequences on the model, seed {settings.SeedText}{slice}, {workers} workers");

        ExplorationReport report;
        try
        {
            var explorer = new Explorer(() => ModelClusterFactory.WithOwnRuntime());
            report = WithProgress(settings, explorer, family, interrupt.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        string? sequencePath = null;
        if (report.Failure is { } failure)
        {
            sequencePath = failure.Save();
            Console.WriteLine(failure.Format(sequencePath));
        }
        var summary = ExplorationSummary.From(report, generatorName, sequencePath);
        if (outDirectory is not null)
        {
            File.WriteAllText(Path.Combine(outDirectory, ExplorationSummary.FileName), summary.ToJson() + "\n");
        }
        Console.WriteLine(report.Summary() + string.Create(CultureInfo.InvariantCulture,
            $" ({report.Rate:F0} sequences/s, {report.VirtualMilliseconds / 1000.0 / Math.Max(0.001, report.Elapsed.TotalSeconds):F0}x virtual time)"));
        Console.WriteLine($"seed {settings.SeedText}; repeat with: {summary.Command()}"
            + (report.Failure is { } f ? $"; replay the failure with: patroni-model replay --seed {f.Replay}{SequenceFamilyNames.FlagsOf(family)}" : ""));
        if (outDirectory is not null)
        {
            Console.WriteLine($"summary: {Path.Combine(outDirectory, ExplorationSummary.FileName)}");
        }
        return Task.FromResult(report.Stopped ? ExitCodes.Interrupted : report.Failure is null ? ExitCodes.Ok : ExitCodes.Failure);
    }

    /// <summary>
    /// The generator <c>--postgres</c> picks (15, the default, or 17: failover slots), or on PostgreSQL 15 <c>--family</c>
    /// (<c>wal-boundaries</c>: WAL starting near a digit boundary; <c>probes</c>: <c>last_confirmed</c> probes).
    /// </summary>
    internal static SequenceFamily Family(Options options)
    {
        var postgres = options.String("--postgres") switch
        {
            null or "15" => SequenceFamily.Default,
            "17" => SequenceFamily.FailoverSlots,
            var other => throw new UsageException($"--postgres must be 15 or 17, got '{other}'"),
        };
        if (options.String("--family") is not { } name)
        {
            return postgres;
        }
        var family = SequenceFamilyNames.FromFamilyFlag(name)
                     ?? throw new UsageException($"--family must be {string.Join(", ", SequenceFamilyNames.FamilyFlags)}, got '{name}'");
        return postgres == SequenceFamily.FailoverSlots && family != SequenceFamily.Default
            ? throw new UsageException($"--family {name} runs on postgres 15; leave out --postgres 17")
            : family == SequenceFamily.Default ? postgres : family;
    }

    private static ExplorationReport WithProgress(ExplorationSettings settings, Explorer explorer, SequenceFamily family, CancellationToken cancellationToken)
    {
        var total = settings.Slice.End(settings.Runs) - settings.Slice.Start(settings.Runs);
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            ExplorationReport? result = null;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("sequences", maxValue: total);
                    result = explorer.Explore(settings, p =>
                    {
                        task.Value = p.Sequences;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"{p.Sequences}/{total} sequences, {p.Rate:F0}/s");
                    }, family, cancellationToken);
                    task.Value = total;
                });
            return result!;
        }
        var lastPrinted = TimeSpan.Zero;
        return explorer.Explore(settings, p =>
        {
            if (p.Elapsed - lastPrinted < TimeSpan.FromSeconds(1) && p.Sequences < total)
            {
                return;
            }
            lastPrinted = p.Elapsed;
            var eta = p.Eta is { } e ? $", about {e.TotalSeconds:F0} s left" : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {p.Sequences}/{total} sequences, {p.Steps} steps, {p.Rate:F0} sequences/s{eta}"));
        }, family, cancellationToken);
    }

    private static int Merge(string[] directories)
    {
        if (directories.Length == 0)
        {
            throw new UsageException("explore merge needs the folders of the shards' summary.json (explore merge DIR...)");
        }
        var summaries = new List<ExplorationSummary>();
        foreach (var directory in directories)
        {
            var path = Directory.Exists(directory) ? Path.Combine(directory, ExplorationSummary.FileName) : directory;
            if (!File.Exists(path))
            {
                throw new UsageException($"{path}: no such file (each shard writes it with explore --out DIR)");
            }
            try
            {
                summaries.Add(ExplorationSummary.Load(path));
            }
            catch (InvalidDataException e)
            {
                throw new UsageException(e.Message);
            }
        }
        MergedExploration merged;
        try
        {
            merged = ExplorationSummary.Merge(summaries);
        }
        catch (InvalidDataException e)
        {
            throw new UsageException(e.Message);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"merged {merged.Shards} shards of seed {merged.Seed}, {merged.Runs} runs ({merged.Generator}): {merged.Counts()}{(merged.Stopped ? " (a shard was stopped before its end)" : "")}"));
        if (merged.Failure is { } f)
        {
            Console.WriteLine($"first failure: sequence {f.Index}, property '{f.Property}': {f.Message}");
            Console.WriteLine($"replay: patroni-model replay --seed {f.Replay}{(merged.Generator == "postgres 17" ? " --postgres 17" : "")}{(f.SequenceFile is null ? "" : $" (shrunk to {f.ShrunkSteps} steps: {f.SequenceFile})")}");
        }
        foreach (var beyond in merged.Beyond.Where(b => b.Failure is not null))
        {
            Console.WriteLine($"also failed beyond it: shard {beyond.Shard}, sequence {beyond.Failure!.Index} ('{beyond.Failure.Property}'), replay --seed {beyond.Failure.Replay}");
        }
        return merged.Stopped ? ExitCodes.Interrupted : merged.Failure is null ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>Creates <paramref name="directory"/> and checks that it is writable; a usage error otherwise.</summary>
    internal static void PrepareOut(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--out {directory} is not a writable folder ({e.Message})");
        }
    }

    /// <summary><c>S</c> or <c>S,G</c>; without <c>--seed</c> a fresh seed, printed so the run can be repeated.</summary>
    private static (ulong Seed, ulong? Gamma) ParseSeed(string? text)
    {
        if (text is null)
        {
            return ((ulong)Random.Shared.NextInt64(1, long.MaxValue), null);
        }
        var parts = text.Split(',');
        if (parts.Length is 1 or 2 && parts.All(p => ulong.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            var seed = ulong.Parse(parts[0], CultureInfo.InvariantCulture);
            return parts.Length == 1 ? (seed, null) : (seed, ulong.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        throw new UsageException($"--seed must be a whole number or seed,gamma, got '{text}'");
    }
}
