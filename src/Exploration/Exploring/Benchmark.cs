using System.Diagnostics;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Generation;

using PatroniModel.Exploration.Running;

namespace PatroniModel.Exploration.Exploring;

/// <summary>The benchmark's figure: sequences per second of a given length on a given cluster size.</summary>
public sealed record BenchmarkResult(int Sequences, long Steps, TimeSpan Elapsed, int StepsPerSequence, int Members, int Failures)
{
    public double Rate => Elapsed.TotalSeconds > 0 ? Sequences / Elapsed.TotalSeconds : 0;

    /// <summary><c>bench: &lt;rate&gt; sequences/s (&lt;steps&gt; steps, &lt;members&gt; members)</c>.</summary>
    public string Line() =>
        string.Create(CultureInfo.InvariantCulture, $"bench: {Rate:F0} sequences/s ({StepsPerSequence} steps, {Members} members)");
}

/// <summary>
/// Runs generated sequences of exactly <c>steps</c> steps (the property suite's generators: slots, writes, switchovers,
/// kills, freezes, partitions, reconciles) on <c>members</c> members for a wall-clock duration, properties checked as in
/// the suite, and measures the rate.
/// </summary>
public static class Benchmark
{
    public static BenchmarkResult Run(ISimulatedClusterFactory factory, int steps, int members, TimeSpan duration, ulong seed = 1)
    {
        var generator = SequenceGenerators.Sequences(steps, members);
        ulong batch = 0;
        var sequences = 0;
        long stepsRun = 0;
        var failures = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            foreach (var sequence in generator.Sample(20, new Rnd(seed, 2 * batch++ + 1), 50))
            {
                var outcome = SequenceRunner.Run(factory, sequence);
                sequences++;
                stepsRun += outcome.Steps.Count;
                failures += outcome.Passed ? 0 : 1;
            }
        }
        return new BenchmarkResult(sequences, stepsRun, clock.Elapsed, steps, members, failures);
    }

}
