using System.Diagnostics;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Generation;
using PatroniModel.Exploration.Shrinking;
using PatroniModel.Scenarios.Sequences;

using PatroniModel.Exploration.Running;

namespace PatroniModel.Exploration.Exploring;

/// <summary>How many sequences to explore from which FsCheck seed.</summary>
/// <param name="Seed">FsCheck's random seed; the same seed explores the same sequences.</param>
/// <param name="Gamma">FsCheck's gamma; null lets FsCheck derive it from the seed.</param>
public sealed record ExplorationSettings(ulong Seed, int Runs, ulong? Gamma = null)
{
    /// <summary>The property suite's default budget.</summary>
    public const int DefaultRuns = 10_000;

    /// <summary>The environment variable that raises the suite's count for long runs (<c>PATRONI_MODEL_RUNS=1000000</c>).</summary>
    public const string RunsVariable = "PATRONI_MODEL_RUNS";

    /// <summary>The runs from <see cref="RunsVariable"/>, or <paramref name="fallback"/>; a bad value is an error, not ignored.</summary>
    public static int RunsFromEnvironment(int fallback = DefaultRuns)
    {
        var text = Environment.GetEnvironmentVariable(RunsVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var runs) && runs > 0
            ? runs
            : throw new ArgumentException($"{RunsVariable} must be a whole number > 0, got '{text}'");
    }
}

/// <summary>Progress: sequences and steps so far.</summary>
public sealed record ExplorationProgress(int Sequences, long Steps, TimeSpan Elapsed);

/// <summary>What an exploration did: counts, time, and the shrunk counterexample when a property failed.</summary>
public sealed record ExplorationReport(int Sequences, long Steps, TimeSpan Elapsed, Counterexample? Failure)
{
    public int Failures => Failure is null ? 0 : 1;

    public double Rate => Elapsed.TotalSeconds > 0 ? Sequences / Elapsed.TotalSeconds : 0;

    /// <summary><c>explored N sequences (M steps) in T s, K failures</c>.</summary>
    public string Summary() =>
        string.Create(CultureInfo.InvariantCulture, $"explored {Sequences} sequences ({Steps} steps) in {Elapsed.TotalSeconds:F1} s, {Failures} failures");

    /// <summary>The summary with the rate, for the test output.</summary>
    public string SummaryWithRate() => string.Create(CultureInfo.InvariantCulture, $"{Summary()} ({Rate:F0} sequences/s)");
}

/// <summary>
/// Runs FsCheck over the generated sequences (<see cref="SequenceGenerators.Sequences()"/>) on a cluster factory, every
/// property checked after every step, and stops at the first failure, which it shrinks with <see cref="SequenceShrinker"/>.
/// FsCheck drives the generation, so a failure's <c>seed,gamma,size</c> replays in <c>[Property(Replay = ...)]</c>.
/// </summary>
public sealed class Explorer(ISimulatedClusterFactory factory)
{
    /// <summary>The arbitrary the suite's <c>[Property]</c> tests use: generation only, shrinking is the <see cref="SequenceShrinker"/>'s.</summary>
    public static Arbitrary<Sequence> Arbitrary { get; } = Arb.From(SequenceGenerators.Sequences());

    /// <summary>The lagging-candidate episodes (<see cref="SequenceGenerators.LaggingCandidateSequences"/>).</summary>
    public static Arbitrary<Sequence> LaggingCandidateArbitrary { get; } = Arb.From(SequenceGenerators.LaggingCandidateSequences());

    /// <summary>PostgreSQL 17 failover-slot sequences (<see cref="SequenceGenerators.FailoverSlotSequences"/>).</summary>
    public static Arbitrary<Sequence> FailoverSlotArbitrary { get; } = Arb.From(SequenceGenerators.FailoverSlotSequences());

    public RunOutcome Run(Sequence sequence) => SequenceRunner.Run(factory, sequence);

    /// <summary>Explores the sequences of <paramref name="family"/>.</summary>
    public ExplorationReport Explore(ExplorationSettings settings, Action<ExplorationProgress>? progress, SequenceFamily family) =>
        Explore(settings, progress, SeedReplay.ArbitraryOf(family));

    /// <summary>Explores <see cref="Arbitrary"/>'s sequences, or <paramref name="generator"/>' (a focused generator).</summary>
    public ExplorationReport Explore(ExplorationSettings settings, Action<ExplorationProgress>? progress = null, Arbitrary<Sequence>? generator = null)
    {
        var sequences = 0;
        long steps = 0;
        RunOutcome? failure = null;
        var clock = Stopwatch.StartNew();
        var runner = new CapturingRunner();
        var rnd = settings.Gamma is { } gamma ? new Rnd(settings.Seed, gamma) : new Rnd(settings.Seed);
        var config = Config.Quick
            .WithMaxTest(settings.Runs)
            .WithMaxRejected(settings.Runs)
            .WithQuietOnSuccess(true)
            .WithRunner(runner)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(rnd, FSharpOption<int>.None)));
        Check.One(config, Prop.ForAll(generator ?? Arbitrary, sequence =>
        {
            var outcome = Run(sequence);
            sequences++;
            steps += outcome.Steps.Count;
            if (progress is not null && sequences % 500 == 0)
            {
                progress(new ExplorationProgress(sequences, steps, clock.Elapsed));
            }
            if (outcome.Passed)
            {
                return true;
            }
            failure ??= outcome;
            return false;
        }));
        var elapsed = clock.Elapsed;
        if (failure is null)
        {
            return new ExplorationReport(sequences, steps, elapsed, null);
        }
        var shrink = new SequenceShrinker(Run).Shrink(failure);
        return new ExplorationReport(sequences, steps, elapsed, new Counterexample(failure, shrink, runner.Replay));
    }

    /// <summary>Keeps FsCheck's replay string of the failing test (<c>seed,gamma,size</c> of the last step) and prints nothing.</summary>
    private sealed class CapturingRunner : IRunner
    {
        public string? Replay { get; private set; }

        public void OnStartFixture(Type t)
        {
        }

        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every)
        {
        }

        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink)
        {
        }

        public void OnFinished(string name, TestResult result)
        {
            if (result is TestResult.Failed failed)
            {
                Replay = string.Create(CultureInfo.InvariantCulture, $"{failed.Item6.Seed},{failed.Item6.Gamma},{failed.Item7}");
            }
        }
    }
}
