using System.Globalization;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Exploring;
using PatroniModel.Scenarios.Configuration;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// <c>patroni-model bench [--steps 30] [--members 3] [--seconds 10] [--workers N]</c>: runs the property suite's generated
/// sequences of exactly <c>--steps</c> steps on the model, every property checked, for <c>--seconds</c> of wall-clock time on
/// one worker and then on <c>N</c> workers (default: every core; a model runtime each), and prints both rates, the scaling
/// ratio, virtual seconds simulated per wall second and the memory per worker.
/// <c>bench --planted</c> prints the time to the first failure of each planted model bug, median over 5 seeds.
/// </summary>
public static class BenchCommand
{
    public const string Usage = "bench [--steps 30] [--members 3] [--seconds 10] [--workers N] | bench --planted [--workers N]";

    public static Task<int> RunAsync(string[] args)
    {
        var options = new Options(args, new HashSet<string> { "--planted" }, new HashSet<string> { "--steps", "--members", "--seconds", "--workers" });
        if (options.Positional.Count > 0)
        {
            throw new UsageException($"bench takes no argument '{options.Positional[0]}' ({Usage})");
        }
        var workers = options.Int("--workers", Environment.ProcessorCount, max: 256);
        if (options.Has("--planted"))
        {
            return Task.FromResult(Planted(workers));
        }
        var steps = options.Int("--steps", 30, min: 1, max: 10_000);
        var members = options.Int("--members", 3, min: 1, max: ClusterConfig.MaxMembers);
        var seconds = options.Int("--seconds", 10, min: 1, max: 3_600);

        var one = Benchmark.Run(() => ModelClusterFactory.WithOwnRuntime(), 1, steps, members, TimeSpan.FromSeconds(seconds));
        Print(one);
        var result = one;
        if (workers > 1)
        {
            var many = Benchmark.Run(() => ModelClusterFactory.WithOwnRuntime(), workers, steps, members, TimeSpan.FromSeconds(seconds));
            Print(many);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench: scaling {many.Rate / Math.Max(1, one.Rate):F2}x with {workers} workers on {Environment.ProcessorCount} cores"));
            result = many;
        }
        Console.WriteLine(result.Line());
        return Task.FromResult(ExitCodes.Ok);
    }

    private static void Print(BenchmarkResult r) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{r.Workers} worker{(r.Workers == 1 ? "" : "s")}: {r.Sequences} sequences ({r.Steps} steps) in {r.Elapsed.TotalSeconds:F1} s, {r.Rate:F0} sequences/s, "
        + $"virtual time {r.VirtualToWall:F0}x wall, about {r.MemoryPerWorkerBytes / 1048576.0:F1} MiB managed memory per worker, {r.Gen0Collections} gen0 and {r.Gen2Collections} gen2 GCs, {r.Failures} with a property failure"));

    private static int Planted(int workers)
    {
        var all = Benchmark.PlantedBugs(workers);
        foreach (var bug in all)
        {
            Console.WriteLine(bug.Line());
        }
        return all.All(b => b.Runs.All(r => r.Found)) ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
