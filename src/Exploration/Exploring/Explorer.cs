using System.Diagnostics;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Generation;
using PatroniModel.Exploration.Shrinking;
using PatroniModel.Scenarios.Sequences;

using PatroniModel.Exploration.Running;

namespace PatroniModel.Exploration.Exploring;

/// <summary>How many sequences to explore from which seed, on how many workers, and which slice of the run.</summary>
/// <param name="Seed">The run's seed: sequence <c>i</c> is <see cref="GeneratedSequences.At"/>(seed, gamma, i).</param>
/// <param name="Runs">How many sequences the whole run has (all shards together).</param>
/// <param name="Gamma">Mixed into the seed when given (<c>--seed S,G</c>).</param>
/// <param name="Workers">Threads, each with its own cluster factory (one model runtime each); the result does not depend on it.</param>
/// <param name="Shard">The slice of the run this process explores; <see cref="Shard.Whole"/> by default.</param>
public sealed record ExplorationSettings(ulong Seed, int Runs, ulong? Gamma = null, int Workers = 1, Shard? Shard = null)
{
    /// <summary>The property suite's default budget.</summary>
    public const int DefaultRuns = 10_000;

    /// <summary>The environment variable that raises the suite's count for long runs (<c>PATRONI_MODEL_RUNS=1000000</c>).</summary>
    public const string RunsVariable = "PATRONI_MODEL_RUNS";

    public Shard Slice => Shard ?? Exploring.Shard.Whole;

    /// <summary><c>S</c> or <c>S,G</c>, as <c>--seed</c> takes it.</summary>
    public string SeedText => Gamma is { } g ? string.Create(CultureInfo.InvariantCulture, $"{Seed},{g}") : Seed.ToString(CultureInfo.InvariantCulture);

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

/// <summary>Shard <c>Index</c> of <c>Count</c>: the contiguous slice <c>[Index * Runs / Count, (Index + 1) * Runs / Count)</c> of a run.</summary>
public sealed record Shard(int Index, int Count)
{
    public static Shard Whole { get; } = new(0, 1);

    public long Start(int runs) => (long)Index * runs / Count;

    public long End(int runs) => (long)(Index + 1) * runs / Count;

    /// <summary><c>i/n</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    /// <summary>Parses <c>i/n</c> with 0 &lt;= i &lt; n; null otherwise.</summary>
    public static Shard? TryParse(string text)
    {
        var parts = text.Split('/');
        return parts.Length == 2
               && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
               && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
               && count is >= 1 and <= 100_000 && index < count
            ? new Shard(index, count)
            : null;
    }
}

/// <summary>Progress: sequences and steps so far, of how many.</summary>
public sealed record ExplorationProgress(long Sequences, long Steps, TimeSpan Elapsed, long Total)
{
    public double Rate => Elapsed.TotalSeconds > 0 ? Sequences / Elapsed.TotalSeconds : 0;

    /// <summary>The time left at the rate so far, or null before the first sequence.</summary>
    public TimeSpan? Eta => Rate > 0 ? TimeSpan.FromSeconds((Total - Sequences) / Rate) : null;
}

/// <summary>What an exploration did: counts, time, and the shrunk counterexample when a property failed.</summary>
/// <param name="Sequences">Sequences explored in this slice: all of it, or up to and including the first failure, or
/// (when stopped) the unbroken prefix that finished.</param>
/// <param name="VirtualMilliseconds">Model time simulated over those sequences (the last observation's clock of each).</param>
/// <param name="Stopped">True when the run was cancelled (Ctrl-C) before its end.</param>
public sealed record ExplorationReport(
    ExplorationSettings Settings, long Sequences, long Steps, TimeSpan Elapsed, Counterexample? Failure,
    long? FailureIndex = null, long VirtualMilliseconds = 0, bool Stopped = false)
{
    public int Failures => Failure is null ? 0 : 1;

    public double Rate => Elapsed.TotalSeconds > 0 ? Sequences / Elapsed.TotalSeconds : 0;

    /// <summary><c>explored N sequences (M steps) in T s, K failures</c>.</summary>
    public string Summary() =>
        string.Create(CultureInfo.InvariantCulture, $"explored {Sequences} sequences ({Steps} steps) in {Elapsed.TotalSeconds:F1} s, {Failures} failures")
        + (Stopped ? " (stopped before the end)" : "");

    /// <summary>The summary with the rate, for the test output.</summary>
    public string SummaryWithRate() => string.Create(CultureInfo.InvariantCulture, $"{Summary()} ({Rate:F0} sequences/s)");
}

/// <summary>
/// Runs the generated sequences (<see cref="SequenceGenerators.Sequences()"/>, or a focused generator) on simulated
/// clusters, every property checked after every step, on <see cref="ExplorationSettings.Workers"/> threads, and stops at
/// the first failure (the lowest-index failing sequence, whatever the number of workers), which it shrinks with
/// <see cref="SequenceShrinker"/>. Sequence <c>i</c> depends only on the seed and <c>i</c>
/// (<see cref="GeneratedSequences"/>), so the same seed and run count give the same counts, the same failure and the same
/// shrunk sequence with 1, 2 or 8 workers, and a shard explores exactly its slice of the one run.
/// </summary>
public sealed class Explorer
{
    private readonly Func<ISimulatedClusterFactory> _newFactory;
    private readonly ISimulatedClusterFactory? _shared;

    /// <summary>One factory for every sequence: one worker (a factory is not assumed to be thread-safe).</summary>
    public Explorer(ISimulatedClusterFactory factory)
    {
        _shared = factory;
        _newFactory = () => factory;
    }

    /// <summary>A factory per worker, made by <paramref name="newFactory"/> on the worker's thread and disposed after (when disposable).</summary>
    public Explorer(Func<ISimulatedClusterFactory> newFactory) => _newFactory = newFactory;

    /// <summary>The generated sequences (<see cref="SequenceGenerators.Sequences()"/>); the suite's <c>[Property]</c> tests use it too.</summary>
    public static Arbitrary<Sequence> Arbitrary { get; } = Arb.From(SequenceGenerators.Sequences());

    /// <summary>The lagging-candidate episodes (<see cref="SequenceGenerators.LaggingCandidateSequences"/>).</summary>
    public static Arbitrary<Sequence> LaggingCandidateArbitrary { get; } = Arb.From(SequenceGenerators.LaggingCandidateSequences());

    /// <summary>PostgreSQL 17 failover-slot sequences (<see cref="SequenceGenerators.FailoverSlotSequences"/>).</summary>
    public static Arbitrary<Sequence> FailoverSlotArbitrary { get; } = Arb.From(SequenceGenerators.FailoverSlotSequences());

    /// <summary>Sequences whose WAL starts near a digit boundary (<see cref="SequenceGenerators.WalBoundarySequences"/>).</summary>
    public static Arbitrary<Sequence> WalBoundaryArbitrary { get; } = Arb.From(SequenceGenerators.WalBoundarySequences());

    /// <summary>Sequences with <c>last_confirmed</c> probes before and after every slot (<see cref="SequenceGenerators.ProbeSequences"/>).</summary>
    public static Arbitrary<Sequence> ProbeArbitrary { get; } = Arb.From(SequenceGenerators.ProbeSequences());

    /// <summary>Explores the sequences of <paramref name="family"/>.</summary>
    public ExplorationReport Explore(ExplorationSettings settings, Action<ExplorationProgress>? progress, SequenceFamily family, CancellationToken cancellationToken = default) =>
        Explore(settings, progress, SeedReplay.ArbitraryOf(family), cancellationToken);

    /// <summary>Explores the slice of the run <paramref name="settings"/> names; <paramref name="cancellationToken"/> stops it cleanly.</summary>
    public ExplorationReport Explore(
        ExplorationSettings settings, Action<ExplorationProgress>? progress = null, Arbitrary<Sequence>? generator = null,
        CancellationToken cancellationToken = default)
    {
        var arbitrary = generator ?? Arbitrary;
        var start = settings.Slice.Start(settings.Runs);
        var end = settings.Slice.End(settings.Runs);
        var count = end - start;
        var workers = _shared is null ? Math.Clamp(settings.Workers, 1, 256) : 1;
        var steps = new int[count];
        var virtualMs = new long[count];
        var done = new bool[count];
        var next = start;
        var firstFailure = long.MaxValue;
        RunOutcome? failure = null;
        long finished = 0, stepsSoFar = 0;
        var clock = Stopwatch.StartNew();
        var gate = new object();
        Exception? crash = null;

        void Work()
        {
            var factory = _newFactory();
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    var index = Interlocked.Increment(ref next) - 1;
                    if (index >= end || index > Interlocked.Read(ref firstFailure))
                    {
                        return;
                    }
                    var sequence = GeneratedSequences.At(arbitrary, settings.Seed, settings.Gamma, index);
                    var outcome = SequenceRunner.Run(factory, sequence);
                    var slot = index - start;
                    steps[slot] = outcome.Steps.Count;
                    virtualMs[slot] = outcome.Steps.Count > 0 ? outcome.Steps[^1].After.AtMilliseconds : 0;
                    Volatile.Write(ref done[slot], true);
                    Interlocked.Add(ref stepsSoFar, outcome.Steps.Count);
                    var total = Interlocked.Increment(ref finished);
                    if (!outcome.Passed)
                    {
                        lock (gate)
                        {
                            if (index < firstFailure)
                            {
                                firstFailure = index;
                                failure = outcome;
                            }
                        }
                    }
                    if (progress is not null && total % 500 == 0)
                    {
                        lock (gate)
                        {
                            progress(new ExplorationProgress(total, Interlocked.Read(ref stepsSoFar), clock.Elapsed, count));
                        }
                    }
                }
            }
            catch (Exception e)
            {
                lock (gate)
                {
                    crash ??= e;
                }
                Interlocked.Exchange(ref firstFailure, -1);
            }
            finally
            {
                if (_shared is null && factory is IDisposable disposable)
                {
                    disposable.Dispose();
                }
            }
        }

        if (workers == 1)
        {
            Work();
        }
        else
        {
            var threads = Enumerable.Range(0, workers).Select(i => new Thread(Work) { Name = $"explore-{i}", IsBackground = true }).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
        }
        if (crash is not null)
        {
            throw new InvalidOperationException($"an exploration worker crashed: {crash.Message}", crash);
        }
        var elapsed = clock.Elapsed;

        // Count the unbroken prefix of finished sequences: up to and including the first failure, the whole slice, or
        // (stopped) what finished before the first sequence that did not.
        var last = failure is null ? count : firstFailure - start + 1;
        long prefix = 0;
        while (prefix < last && done[prefix])
        {
            prefix++;
        }
        var stopped = failure is null && prefix < count;
        var report = new ExplorationReport(settings, prefix, steps.Take((int)prefix).Sum(s => (long)s), elapsed, null,
            VirtualMilliseconds: virtualMs.Take((int)prefix).Sum(), Stopped: stopped);
        if (failure is null || prefix < last)
        {
            return report;
        }
        var shrinkFactory = _newFactory();
        try
        {
            var shrink = new SequenceShrinker(s => SequenceRunner.Run(shrinkFactory, s)).Shrink(failure);
            var point = GeneratedSequences.PointOf(settings.Seed, settings.Gamma, firstFailure);
            return report with { Failure = new Counterexample(failure, shrink, point.ToString()), FailureIndex = firstFailure };
        }
        finally
        {
            if (_shared is null && shrinkFactory is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
    }

    /// <summary>Runs one sequence on a fresh cluster of the first factory (one worker's).</summary>
    public RunOutcome Run(Sequence sequence)
    {
        var factory = _newFactory();
        try
        {
            return SequenceRunner.Run(factory, sequence);
        }
        finally
        {
            if (_shared is null && factory is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
    }
}
