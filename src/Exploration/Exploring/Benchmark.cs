using System.Diagnostics;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Generation;
using PatroniModel.Scenarios.Sequences;

using PatroniModel.Exploration.Running;

namespace PatroniModel.Exploration.Exploring;

/// <summary>The benchmark's figure: sequences per second of a given length on a given cluster size.</summary>
/// <param name="VirtualMilliseconds">Model time simulated over the sequences.</param>
/// <param name="MemoryPerWorkerBytes">Managed heap growth while the workers' runtimes are alive, divided by the workers.</param>
public sealed record BenchmarkResult(
    int Sequences, long Steps, TimeSpan Elapsed, int StepsPerSequence, int Members, int Failures, int Workers = 1,
    long VirtualMilliseconds = 0, long MemoryPerWorkerBytes = 0, int Gen0Collections = 0, int Gen2Collections = 0)
{
    public double Rate => Elapsed.TotalSeconds > 0 ? Sequences / Elapsed.TotalSeconds : 0;

    /// <summary>Virtual seconds simulated per wall second.</summary>
    public double VirtualToWall => Elapsed.TotalSeconds > 0 ? VirtualMilliseconds / 1000.0 / Elapsed.TotalSeconds : 0;

    /// <summary><c>bench: &lt;rate&gt; sequences/s (&lt;steps&gt; steps, &lt;members&gt; members)</c>.</summary>
    public string Line() =>
        string.Create(CultureInfo.InvariantCulture, $"bench: {Rate:F0} sequences/s ({StepsPerSequence} steps, {Members} members{(Workers > 1 ? $", {Workers} workers" : "")})");
}

/// <summary>Time to the first failure of an exploration of a planted bug, per seed.</summary>
public sealed record TimeToFailure(string Bug, IReadOnlyList<(ulong Seed, TimeSpan Took, long Sequences, bool Found)> Runs)
{
    public TimeSpan Median => Runs.Select(r => r.Took).Order().ElementAt(Runs.Count / 2);

    public string Line() => string.Create(CultureInfo.InvariantCulture,
        $"planted {Bug}: first failure in a median {Median.TotalSeconds:F2} s over {Runs.Count} seeds ({string.Join(", ", Runs.Select(r => r.Found ? $"{r.Took.TotalSeconds:F2} s after {r.Sequences} sequences" : $"NOT FOUND in {r.Sequences}"))})");
}

/// <summary>
/// Runs generated sequences of exactly <c>steps</c> steps (the property suite's generators: slots, writes, switchovers,
/// kills, freezes, partitions, reconciles) on <c>members</c> members for a wall-clock duration, properties checked as in
/// the suite, and measures the rate, on one or several workers (a model runtime each).
/// </summary>
public static class Benchmark
{
    public static BenchmarkResult Run(ISimulatedClusterFactory factory, int steps, int members, TimeSpan duration, ulong seed = 1) =>
        Run(() => factory, 1, steps, members, duration, seed, owned: false);

    /// <summary>Runs on <paramref name="workers"/> threads, each with a factory of its own from <paramref name="newFactory"/>.</summary>
    public static BenchmarkResult Run(Func<ISimulatedClusterFactory> newFactory, int workers, int steps, int members, TimeSpan duration, ulong seed = 1) =>
        Run(newFactory, workers, steps, members, duration, seed, owned: true);

    private static BenchmarkResult Run(Func<ISimulatedClusterFactory> newFactory, int workers, int steps, int members, TimeSpan duration, ulong seed, bool owned)
    {
        var generator = SequenceGenerators.Sequences(steps, members);
        var sequences = 0;
        long stepsRun = 0, virtualMs = 0;
        var failures = 0;
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long heapDuring = 0;
        using var ready = new Barrier(workers + 1);
        using var finished = new Barrier(workers + 1);
        var clock = new Stopwatch();
        int gen0 = 0, gen2 = 0;

        void Work(int worker)
        {
            var factory = newFactory();
            try
            {
                ready.SignalAndWait();
                ulong batch = (ulong)worker;
                while (clock.Elapsed < duration)
                {
                    foreach (var sequence in generator.Sample(20, new Rnd(seed, 2 * batch + 1), 50))
                    {
                        var outcome = SequenceRunner.Run(factory, sequence);
                        Interlocked.Increment(ref sequences);
                        Interlocked.Add(ref stepsRun, outcome.Steps.Count);
                        Interlocked.Add(ref virtualMs, outcome.Steps.Count > 0 ? outcome.Steps[^1].After.AtMilliseconds : 0);
                        if (!outcome.Passed)
                        {
                            Interlocked.Increment(ref failures);
                        }
                    }
                    batch += (ulong)workers;
                }
                finished.SignalAndWait();
                finished.SignalAndWait();
            }
            finally
            {
                if (owned && factory is IDisposable disposable)
                {
                    disposable.Dispose();
                }
            }
        }

        var threads = Enumerable.Range(0, workers).Select(w => new Thread(() => Work(w)) { Name = $"bench-{w}", IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        ready.SignalAndWait();
        (gen0, gen2) = (GC.CollectionCount(0), GC.CollectionCount(2));
        clock.Start();
        finished.SignalAndWait();
        var elapsed = clock.Elapsed;
        (gen0, gen2) = (GC.CollectionCount(0) - gen0, GC.CollectionCount(2) - gen2);
        heapDuring = GC.GetTotalMemory(forceFullCollection: true);
        finished.SignalAndWait();
        threads.ForEach(t => t.Join());
        return new BenchmarkResult(sequences, stepsRun, elapsed, steps, members, failures, workers, virtualMs,
            Math.Max(0, heapDuring - heapBefore) / workers, gen0, gen2);
    }

    /// <summary>The time to the first failure of each planted model bug (<c>PlantedBug*</c> in ModelOptions), 5 seeds each.</summary>
    public static IReadOnlyList<TimeToFailure> PlantedBugs(int workers)
    {
        ulong[] seeds = [1, 2, 3, 4, 5];
        return
        [
            FirstFailure("promote-beyond-maximum-lag (lagging-candidate episodes)",
                () => ModelClusterFactory.WithOwnRuntime(new Model.ModelOptions { PlantedBugPromoteBeyondMaximumLag = true }),
                Explorer.LaggingCandidateArbitrary, seeds, 20_000, workers),
            FirstFailure("ignore-synchronized-standby-slots (PostgreSQL 17 failover-slot sequences)",
                () => ModelClusterFactory.WithOwnRuntime(new Model.ModelOptions { PlantedBugIgnoreSynchronizedStandbySlots = true }),
                Explorer.FailoverSlotArbitrary, seeds, 20_000, workers),
        ];
    }

    /// <summary>
    /// For a planted bug: explores from each of <paramref name="seeds"/> with <paramref name="newFactory"/>'s (buggy) model
    /// and times the first failure, shrinking included.
    /// </summary>
    public static TimeToFailure FirstFailure(string bug, Func<ISimulatedClusterFactory> newFactory, Arbitrary<Sequence> generator, IEnumerable<ulong> seeds, int runs, int workers)
    {
        var results = new List<(ulong, TimeSpan, long, bool)>();
        foreach (var seed in seeds)
        {
            var watch = Stopwatch.StartNew();
            var report = new Explorer(newFactory).Explore(new ExplorationSettings(seed, runs, Workers: workers), generator: generator);
            results.Add((seed, watch.Elapsed, report.Sequences, report.Failure is not null));
        }
        return new TimeToFailure(bug, results);
    }
}
