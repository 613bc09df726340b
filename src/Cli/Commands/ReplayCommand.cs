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
/// Exit codes: 0 properties hold (and model and reality agree), 1 a property failed or they disagree, 2 bad input.
/// </summary>
public static class ReplayCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Options(args, new HashSet<string> { "--real" }, new HashSet<string> { "--seed", "--artifacts", "--postgres", "--family" });
        var (sequence, source) = Load(options);
        var directory = ArtifactFolder.Create("replay", DateTimeOffset.UtcNow, options.String("--artifacts"));
        var output = new ProgressOutput();

        output.Line($"replaying {source}: {sequence.Steps.Length} steps on {sequence.Config.Members} members ({Counterexample.Describe(sequence.Config)})");
        using var runtime = new ModelRuntime();
        var outcome = new Explorer(new ModelClusterFactory(runtime)).Run(sequence);
        var model = ToSide("model", outcome);
        output.Line("# model");
        output.Line($"    initial: {model.Initial}");
        foreach (var step in outcome.Steps)
        {
            var marker = outcome.Violation is { } v && v.StepIndex == step.Index ? $"   <-- {v.Label}" : "";
            output.Step(step.ToString() + marker, ok: marker.Length == 0);
            output.Line($"      {step.After}");
        }
        if (outcome.Trace.Length > 0)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "model-trace.txt"), outcome.Trace);
        }
        var modelVerdict = outcome.Violation is { } violation
            ? $"verdict: property failed: {violation}"
            : $"verdict: all properties hold over {outcome.Steps.Count} steps";

        if (!options.Has("--real"))
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
            session = await ConformanceSession.StartAsync(sequence, line => output.Line($"    {line}"), runtime: runtime);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{source}: {e.Message}");
        }
        await using var _ = session;
        ConformanceReport report;
        try
        {
            report = await session.RunAsync(comparison =>
            {
                output.Step($"{comparison.Index,3} {comparison.Reality.Result}", comparison.Agrees);
                output.Line($"      reality: {comparison.Reality.After}");
                output.Line($"      model:   {comparison.Model.After}");
                if (!comparison.Agrees)
                {
                    output.Line($"      DISAGREE: {string.Join("; ", comparison.Differences)}");
                }
            });
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

    private static (Sequence Sequence, string Source) Load(Options options)
    {
        var seed = options.String("--seed");
        if (seed is not null)
        {
            if (options.Positional.Count > 0)
            {
                throw new UsageException("replay takes a sequence file or --seed, not both");
            }
            return (FromSeed(seed, ExploreCommand.Family(options)), $"property seed {seed}");
        }
        if (options.Positional.Count != 1)
        {
            throw new UsageException("replay needs one sequence file (replay <sequence.json>) or --seed <seed,gamma,size>");
        }
        var path = options.Positional[0];
        var sequence = SequenceFile.Load(path);
        SequenceFile.Validate(sequence, path);
        return (sequence, path);
    }

    /// <summary>The sequence a property failure's <c>seed,gamma,size</c> stands for (<see cref="SeedReplay.Regenerate"/>); bad text is a usage error.</summary>
    public static Sequence FromSeed(string text, SequenceFamily family = SequenceFamily.Default)
    {
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
