using System.Globalization;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Exploration.Exploring;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// <c>patroni-model bench [--steps 30] [--members 3] [--seconds 20]</c>: runs the property suite's generated sequences
/// (slots, writes, switchovers, kills, freezes, partitions, reconciles) of exactly <c>--steps</c> steps on the model, every
/// property checked, for <c>--seconds</c> of wall-clock time on one <see cref="ModelRuntime"/>, and ends with
/// <c>bench: &lt;rate&gt; sequences/s (&lt;steps&gt; steps, &lt;members&gt; members)</c>.
/// </summary>
public static class BenchCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var options = new Options(args, new HashSet<string>(), new HashSet<string> { "--steps", "--members", "--seconds" });
        if (options.Positional.Count > 0)
        {
            throw new UsageException($"bench takes no argument '{options.Positional[0]}' (bench [--steps 30] [--members 3] [--seconds 20])");
        }
        var steps = options.Int("--steps", 30, min: 1, max: 10_000);
        var members = options.Int("--members", 3, min: 1, max: ClusterConfig.MaxMembers);
        var seconds = options.Int("--seconds", 20, min: 1, max: 3_600);

        using var runtime = new ModelRuntime();
        var result = Benchmark.Run(new ModelClusterFactory(runtime), steps, members, TimeSpan.FromSeconds(seconds));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ran {result.Sequences} sequences ({result.Steps} steps) in {result.Elapsed.TotalSeconds:F1} s, {result.Failures} with a property failure"));
        Console.WriteLine(result.Line());
        return Task.FromResult(ExitCodes.Ok);
    }
}
