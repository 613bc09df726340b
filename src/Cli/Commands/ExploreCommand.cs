using System.Globalization;
using PatroniModel.Exploration.Clusters;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using PatroniModel.Exploration.Exploring;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// <c>patroni-model explore [--seed S] [--runs N] [--postgres 17]</c>: the property suite's generators and properties on the
/// model, outside xUnit; <c>--postgres 17</c> explores the PostgreSQL 17 failover-slot sequences instead.
/// Prints progress and <c>explored N sequences (M steps) in T s, K failures</c>; exits 0 when every property held, 1 when one
/// failed (the shrunk sequence is written to <c>artifacts/property/&lt;utc&gt;/sequence.json</c>), 2 on bad input.
/// The same seed explores the same sequences, so it prints the same summary (but the time).
/// </summary>
public static class ExploreCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var options = new Options(args, new HashSet<string>(), new HashSet<string> { "--seed", "--runs", "--postgres" });
        if (options.Positional.Count > 0)
        {
            throw new UsageException($"explore takes no argument '{options.Positional[0]}' (explore [--seed S] [--runs N] [--postgres 17])");
        }
        var family = Family(options);
        var runs = options.Int("--runs", ExplorationSettings.DefaultRuns);
        var (seed, gamma) = ParseSeed(options.String("--seed"));
        var seedText = gamma is { } g ? $"{seed},{g}" : seed.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine($"exploring {runs} {(family == SequenceFamily.FailoverSlots ? "PostgreSQL 17 failover-slot " : "")}sequences on the model, seed {seedText}");

        using var runtime = new ModelRuntime();
        var explorer = new Explorer(new ModelClusterFactory(runtime));
        var report = explorer.Explore(new ExplorationSettings(seed, runs, gamma), p =>
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {p.Sequences}/{runs} sequences, {p.Steps} steps, {p.Sequences / Math.Max(0.001, p.Elapsed.TotalSeconds):F0} sequences/s")),
            family);
        if (report.Failure is { } failure)
        {
            var path = failure.Save();
            Console.WriteLine(failure.Format(path));
            Console.WriteLine(report.Summary());
            return Task.FromResult(ExitCodes.Failure);
        }
        Console.WriteLine(report.Summary());
        return Task.FromResult(ExitCodes.Ok);
    }

    /// <summary>The generator <c>--postgres</c> picks: 15 (the default) or 17 (failover slots).</summary>
    internal static SequenceFamily Family(Options options) => options.String("--postgres") switch
    {
        null or "15" => SequenceFamily.Default,
        "17" => SequenceFamily.FailoverSlots,
        var other => throw new UsageException($"--postgres must be 15 or 17, got '{other}'"),
    };

    /// <summary><c>S</c> (FsCheck derives gamma) or <c>S,G</c>; without <c>--seed</c> a fresh seed, printed so the run can be repeated.</summary>
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
            return parts.Length == 1 ? (seed, null) : (seed, ulong.Parse(parts[1], CultureInfo.InvariantCulture) | 1);
        }
        throw new UsageException($"--seed must be a whole number or seed,gamma, got '{text}'");
    }
}
