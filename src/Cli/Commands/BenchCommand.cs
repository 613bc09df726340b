using System.CommandLine;
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
    public static Command Create()
    {
        var steps = Options.WholeNumber("--steps", "N", "steps in each generated sequence", 30, 1, 10_000);
        var members = Options.WholeNumber("--members", "N", "cluster members", 3, 1, ClusterConfig.MaxMembers);
        var seconds = Options.WholeNumber("--seconds", "S", "wall-clock seconds of each measurement", 10, 1, 3_600);
        var workers = Options.WholeNumber("--workers", "N", "workers of the second measurement, a model runtime each; the default is one per core", Environment.ProcessorCount, 1, 256);
        var planted = Options.Flag("--planted", "instead: the time to the first failure of each planted model bug, median over 5 seeds");
        var command = new CommandWithExitCodes("bench",
            "Runs generated sequences of exactly --steps steps on the model, every property checked, on one worker and then on "
            + "--workers, and prints both rates, the scaling, virtual seconds per wall second and the memory per worker.",
            "exit codes: 0 done (with --planted: every planted bug found), 1 a planted bug not found, 2 bad input")
        {
            steps, members, seconds, workers, planted,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(planted))
            {
                // The planted bugs' runs have their own length and cluster; a --steps given with them would be ignored.
                var ignored = new Option[] { steps, members, seconds }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false });
                return ignored is null
                    ? Planted(parse.GetValue(workers))
                    : throw new UsageException($"{ignored.Name} does not go with --planted (only --workers does)");
            }
            return Run(parse.GetValue(steps), parse.GetValue(members), parse.GetValue(seconds), parse.GetValue(workers));
        });
        return command;
    }

    private static int Run(int steps, int members, int seconds, int workers)
    {
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
        return ExitCodes.Ok;
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
