using System.CommandLine;
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
    public const string ExitCodeText =
        "exit codes: 0 every property held, 1 a property failed (the shrunk sequence is saved and the replay command printed),\n" +
        "            2 bad input, 130 stopped by Ctrl-C or SIGTERM (after the partial summary)";

    public static Command Create()
    {
        var seed = Options.Parsed<(ulong Seed, ulong? Gamma)?>("--seed", "S[,G]",
            "seed, or seed,gamma, of the run (whole numbers from 0 to 18446744073709551615; default: a fresh seed, printed)", text => ParseSeed(text));
        var runs = Options.WholeNumber("--runs", "N", "how many sequences to generate and check", ExplorationSettings.DefaultRuns, 1, 100_000_000);
        var postgres = PostgresOption("the generator: 15, or 17 for the PostgreSQL 17 failover-slot sequences");
        var familyOption = FamilyOption();
        var workers = Options.WholeNumber("--workers", "W", "threads, each with its own model runtime; the default is one per core", Environment.ProcessorCount, 1, 256);
        var shard = ShardOption("explore the i-th of n contiguous slices of the run");
        var outDirectory = Options.Text("--out", "DIR", "write DIR/summary.json (what explore merge reads)");
        var command = new CommandWithExitCodes("explore",
            "Runs the property suite's generators and properties on the model, outside xUnit, on W threads. "
            + "The same seed and run count explore the same sequences and print the same counts and failure whatever the workers.",
            ExitCodeText)
        {
            seed, runs, postgres, familyOption, workers, shard, outDirectory, MergeCommand(),
        };
        command.SetAction(parse => Run(parse.GetValue(seed) ?? ParseSeed(null), parse.GetValue(runs), Family(parse.GetValue(postgres), parse.GetValue(familyOption)),
            parse.GetValue(workers), parse.GetValue(shard) ?? Shard.Whole, parse.GetValue(outDirectory)));
        return command;
    }

    /// <summary><c>--postgres 15|17</c>, shared by explore, replay and conform; 15 when absent.</summary>
    internal static Option<int> PostgresOption(string description)
    {
        var option = Options.Parsed("--postgres", "15|17", description, text => Family(text) == SequenceFamily.FailoverSlots ? 17 : 15);
        option.DefaultValueFactory = _ => 15;
        option.CompletionSources.Add("15", "17");
        return option;
    }

    /// <summary>The generator of a <c>--postgres</c> major version: 15 (the default) or 17 (failover slots).</summary>
    internal static SequenceFamily Family(int postgres) => postgres == 17 ? SequenceFamily.FailoverSlots : SequenceFamily.Default;

    /// <summary><c>--family wal-boundaries|probes</c>, shared by explore and replay: a PostgreSQL 15 sequence family other than the default.</summary>
    internal static Option<string?> FamilyOption()
    {
        var option = Options.Text("--family", "NAME",
            $"on postgres 15, another sequence family: wal-boundaries (WAL starting near a digit boundary) or probes (reconcile last_confirmed probes); one of {string.Join(", ", SequenceFamilyNames.FamilyFlags)}");
        option.CompletionSources.Add([.. SequenceFamilyNames.FamilyFlags]);
        return option;
    }

    /// <summary>The generator <c>--postgres</c> and <c>--family</c> pick together; a family other than the default runs on postgres 15 only.</summary>
    internal static SequenceFamily Family(int postgres, string? familyName)
    {
        var byVersion = Family(postgres);
        if (familyName is null)
        {
            return byVersion;
        }
        var family = SequenceFamilyNames.FromFamilyFlag(familyName)
                     ?? throw new UsageException($"--family must be {string.Join(", ", SequenceFamilyNames.FamilyFlags)}, got '{familyName}'");
        return byVersion == SequenceFamily.FailoverSlots && family != SequenceFamily.Default
            ? throw new UsageException($"--family {familyName} runs on postgres 15; leave out --postgres 17")
            : family == SequenceFamily.Default ? byVersion : family;
    }

    /// <summary><c>--shard i/n</c>, shared by explore and conform.</summary>
    internal static Option<Shard?> ShardOption(string description) => Options.Parsed<Shard?>("--shard", "i/n", $"{description} (0 <= i < n <= 100000)",
        text => Shard.TryParse(text) ?? throw new UsageException($"--shard must be i/n with 0 <= i < n <= 100000, got '{text}'"));

    private static Command MergeCommand()
    {
        var directories = new Argument<string[]>("DIR") { Arity = ArgumentArity.ZeroOrMore, Description = "the shards' --out folders (or their summary.json files)" };
        var merge = new CommandWithExitCodes("merge", "Merges shards' summaries into the verdict of the whole run.",
            "exit codes: 0 every property held, 1 a property failed, 2 bad input or a shard missing, 130 a shard was stopped")
        {
            directories,
        };
        merge.SetAction(parse => Merge(parse.GetValue(directories) ?? []));
        return merge;
    }

    private static int Run((ulong Seed, ulong? Gamma) seedAndGamma, int runs, SequenceFamily family, int workers, Shard shard, string? outDirectory)
    {
        var generatorName = SequenceFamilyNames.GeneratorOf(family);
        if (outDirectory is not null)
        {
            PrepareOut(outDirectory);
        }
        var (seed, gamma) = seedAndGamma;
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
        return report.Stopped ? ExitCodes.Interrupted : report.Failure is null ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>The generator <c>--postgres</c> picks: 15 (the default) or 17 (failover slots).</summary>
    internal static SequenceFamily Family(string? text) => text switch
    {
        null or "15" => SequenceFamily.Default,
        "17" => SequenceFamily.FailoverSlots,
        var other => throw new UsageException($"--postgres must be 15 or 17, got '{other}'"),
    };

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
