using System.CommandLine;
using PatroniModel.Conformance.Artifacts;
using PatroniModel.Conformance.Running;
using PatroniModel.Conformance.Sessions;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using PatroniModel.Scenarios.Artifacts;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Exploration.Exploring;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// <c>patroni-model replay &lt;sequence.json&gt; [--real]</c> or <c>replay --seed &lt;seed,gamma,size&gt; [--real]</c>: a bug repro.
/// Runs the sequence on the model with every property checked and prints the history, one step per line with the
/// observation after it, then a verdict line. With <c>--real</c> it also runs the sequence on a real Patroni cluster in
/// Docker, step by step beside the model, and prints the comparison. Evidence goes to <c>artifacts/replay/&lt;utc&gt;/</c>.
/// Each step's line is printed when the step ends; Ctrl-C or SIGTERM stops the replay after the running step, prints what
/// ran, writes its evidence and exits 130. Exit codes: 0 properties hold (and model and reality agree), 1 a property
/// failed or they disagree, 2 bad input, 130 stopped.
/// </summary>
public static class ReplayCommand
{
    public const string ExitCodeText =
        "exit codes: 0 every property held (and model and reality agree), 1 a property failed or they disagree, 2 bad input,\n"
        + "            130 stopped by Ctrl-C or SIGTERM after the running step (the steps that ran are printed and in the artifacts)";

    public static Command Create()
    {
        var file = new Argument<string?>("sequence.json") { Arity = ArgumentArity.ZeroOrOne, Description = "the sequence file to replay (README: Sequence files)" };
        var seed = Options.Text("--seed", "S,G,SIZE",
            $"the seed,gamma,size a property failure printed, instead of a file (seed and gamma 0 to {ulong.MaxValue}, size 0 to {MaxSize})");
        var postgres = ExploreCommand.PostgresOption(
            "with --seed: the generator the seed came from, 15 or 17; with a file it must agree with the file's cluster.postgres");
        var familyOption = ExploreCommand.FamilyOption();
        var real = Options.Flag("--real", "also run the sequence on a real Patroni cluster in Docker, step by step beside the model");
        var artifacts = Options.Text("--artifacts", "DIR", "where the evidence goes: DIR/replay/<utc>/ (default: the repository's artifacts/, or $PATRONI_MODEL_ARTIFACTS)");
        var command = new CommandWithExitCodes("replay",
            "Replays a sequence (a bug repro) on the model with every property checked, printing the history one step per line "
            + "with the observation after it, then a verdict line.",
            ExitCodeText)
        {
            file, seed, postgres, familyOption, real, artifacts,
        };
        command.SetAction((parse, _) => RunAsync(
            parse.GetValue(file), parse.GetValue(seed), parse.GetValue(postgres), parse.GetValue(familyOption), parse.GetResult(postgres) is { Implicit: false },
            parse.GetValue(real), parse.GetValue(artifacts)));
        return command;
    }

    private static async Task<int> RunAsync(string? file, string? seed, int postgres, string? family, bool postgresGiven, bool real, string? artifacts)
    {
        var (sequence, source) = Load(file, seed, postgres, family, postgresGiven);
        var directory = CreateArtifactFolder(artifacts);
        try
        {
            // Ctrl-C (SIGINT) and SIGTERM stop the replay after the step that is running; SIGTERM also where a shell started
            // the command as a background job with SIGINT ignored.
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
            try
            {
                return await RunAsync(sequence, source, directory, real, new ProgressOutput(), interrupt.Token);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        }
        finally
        {
            // A run that wrote nothing (refused before its first step) leaves no empty folder behind.
            RemoveIfEmpty(directory);
        }
    }

    private static async Task<int> RunAsync(Sequence sequence, string source, string directory, bool real, ProgressOutput output, CancellationToken stop)
    {
        output.Line($"replaying {source}: {sequence.Steps.Length} steps on {sequence.Config.Members} members ({Counterexample.Describe(sequence.Config)})");
        using var runtime = new ModelRuntime();
        output.Line("# model");
        var run = ModelReplay.Run(new ModelClusterFactory(runtime), sequence,
            initial => output.Detail($"    initial: {initial}"),
            (step, violation) =>
            {
                var marker = violation is { } v && v.StepIndex == step.Index ? $"   <-- {v.Label}" : "";
                output.Step(step.ToString() + marker, ok: marker.Length == 0);
                output.Detail($"      {step.After}");
            },
            stop);
        var outcome = run.Outcome;
        var model = ToSide("model", outcome);
        if (outcome.Trace.Length > 0)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "model-trace.txt"), outcome.Trace);
        }
        if (run.Stopped)
        {
            // What ran is printed above; its evidence goes to the folder as a finished run's does.
            ArtifactWriter.Write(directory, sequence, model);
            output.Line($"artifacts: {directory}");
            output.Verdict($"verdict: stopped by Ctrl-C or SIGTERM after {outcome.Steps.Count} of {sequence.Steps.Length} steps; all properties held over them", ok: false);
            return ExitCodes.Interrupted;
        }
        var modelVerdict = outcome.Violation is { } violation
            ? $"verdict: property failed: {violation}"
            : $"verdict: all properties hold over {outcome.Steps.Count} steps";

        if (!real)
        {
            ArtifactWriter.Write(directory, sequence, model);
            output.Line($"artifacts: {directory}");
            output.Verdict(modelVerdict, outcome.Passed);
            return outcome.Passed ? ExitCodes.Ok : ExitCodes.Failure;
        }

        output.Line(modelVerdict);
        output.Line("# reality: starting a real Patroni cluster in Docker (see README: ./test.sh installs the engine and builds the image)");
        ConformanceSession session;
        try
        {
            session = await ConformanceSession.StartAsync(sequence, line => output.Line($"    {line}"), runtime: runtime, cancellationToken: stop);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{source}: {e.Message}");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            ArtifactWriter.Write(directory, sequence, model);
            output.Line($"artifacts: {directory}");
            output.Verdict("verdict: stopped by Ctrl-C or SIGTERM while the real cluster was starting (its containers are removed)", ok: false);
            return ExitCodes.Interrupted;
        }
        await using var _ = session;
        ConformanceReport report;
        try
        {
            report = await session.RunAsync(comparison =>
            {
                output.Step($"{comparison.Index,3} {comparison.Reality.Result}", comparison.Agrees);
                output.Detail($"      reality: {comparison.Reality.After}");
                output.Detail($"      model:   {comparison.Model.After}");
                if (!comparison.Agrees)
                {
                    output.Detail($"      DISAGREE: {string.Join("; ", comparison.Differences)}");
                }
            }, cancellationToken: stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The comparison of the steps that finished is printed above; the model's history and the members' logs are kept.
            ArtifactWriter.Write(directory, sequence, model);
            output.Line($"artifacts: {directory}");
            output.Verdict("verdict: stopped by Ctrl-C or SIGTERM during the real run; the steps compared so far are above", ok: false);
            return ExitCodes.Interrupted;
        }
        finally
        {
            await session.WriteLogsAsync(directory);
        }
        ArtifactWriter.Write(directory, sequence, model, report.Reality, report);
        output.Line($"artifacts: {directory}");
        output.Line(modelVerdict);
        output.Verdict(report.Verdict, report.Agrees && outcome.Passed);
        return report.Agrees && outcome.Passed ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static void RemoveIfEmpty(string directory)
    {
        try
        {
            if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left as it is: the run's own outcome is what the user needs to see.
        }
    }

    private static (Sequence Sequence, string Source) Load(string? file, string? seed, int postgres, string? family, bool postgresGiven)
    {
        if (seed is not null)
        {
            if (file is not null)
            {
                throw new UsageException("replay takes a sequence file or --seed, not both");
            }
            return (FromSeed(seed, ExploreCommand.Family(postgres, family)), $"property seed {seed}");
        }
        var path = file ?? throw new UsageException("replay needs one sequence file (replay <sequence.json>) or --seed <seed,gamma,size>");
        if (family is not null)
        {
            throw new UsageException($"--family {family} goes with --seed; a sequence file is replayed as it is written");
        }
        var sequence = SequenceFile.Load(path);
        SequenceFile.Validate(sequence, path);
        if (postgresGiven && sequence.Config.PostgresMajor != postgres)
        {
            // A file states its version (cluster.postgres); --postgres can't change it, and is not silently ignored.
            throw new UsageException($"--postgres {postgres}: {path} is a postgres {sequence.Config.PostgresMajor} sequence (its cluster.postgres); drop --postgres or change the file");
        }
        return (sequence, path);
    }

    /// <summary>A fresh <c>replay/&lt;utc&gt;</c> folder under <paramref name="root"/>; one line naming where it would have gone when it can't be made.</summary>
    private static string CreateArtifactFolder(string? root)
    {
        var under = root ?? ArtifactFolder.Root;
        try
        {
            return ArtifactFolder.Create("replay", DateTimeOffset.UtcNow, under);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            var how = root is null ? "; set --artifacts DIR or PATRONI_MODEL_ARTIFACTS" : "";
            throw new UsageException($"{(root is null ? "" : "--artifacts: ")}can't create the artifacts folder under {Path.Combine(under, "replay")} ({e.Message.ReplaceLineEndings(" ")}){how}");
        }
    }

    /// <summary>
    /// The largest FsCheck size <c>--seed</c> takes: explore and the property tests generate sizes 0 to 99; a size of
    /// 2147483647 would generate a sequence for minutes and gigabytes.
    /// </summary>
    public const int MaxSize = 1000;

    /// <summary>The sequence a property failure's <c>seed,gamma,size</c> stands for (<see cref="SeedReplay.Regenerate"/>); bad text is a usage error.</summary>
    public static Sequence FromSeed(string text, SequenceFamily family = SequenceFamily.Default)
    {
        if (ReplayPoint.TryParse(text) is { Size: > MaxSize } point)
        {
            throw new UsageException($"--seed: size must be from 0 to {MaxSize} (explore prints sizes 0 to 99), got {point.Size} in '{text}'");
        }
        try
        {
            return SeedReplay.Regenerate(text, family);
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
    }

    private static SideHistory ToSide(string side, RunOutcome outcome) => new(
        side,
        outcome.Steps.Count > 0 ? outcome.Steps[0].Before : new Scenarios.Observations.Observation(0, null, [], [], 0, []),
        [.. outcome.Steps]);
}
