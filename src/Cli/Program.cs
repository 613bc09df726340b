using PatroniModel.Cli.Commands;
using PatroniModel.RealCluster.Docker;
using PatroniModel.RealCluster.Waiting;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Cli;

/// <summary>The <c>patroni-model</c> command. Exit codes: 0 ok, 1 property failure or disagreement, 2 bad input.</summary>
public static class Program
{
    public const string Usage =
        "usage: patroni-model " + ExploreCommand.Usage + "\n" +
        "       patroni-model replay <sequence.json> [--real] | replay --seed <seed,gamma,size> [--postgres 17 | --family wal-boundaries|probes] [--real]\n" +
        "       patroni-model " + ConformCommand.Usage + "\n" +
        "       patroni-model " + BenchCommand.Usage + "\n" +
        "       patroni-model audit --patroni URL[,URL...] [--json] | ensure SLOT --patroni URL... --plugin P ... | exporter --patroni URL...\n" +
        "       patroni-model --version | <command> --help";

    /// <summary>The informational version the package was built with (e.g. <c>0.1.0+abc123</c>).</summary>
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            (args.Length == 0 ? Console.Error : Console.Out).WriteLine(Usage);
            return args.Length == 0 ? ExitCodes.BadInput : ExitCodes.Ok;
        }
        if (args[0] is "--version" or "version")
        {
            Console.Out.WriteLine($"patroni-model {Version}");
            return ExitCodes.Ok;
        }
        try
        {
            var rest = args[1..];
            return args[0] switch
            {
                "explore" => await ExploreCommand.RunAsync(rest),
                "replay" => await ReplayCommand.RunAsync(rest),
                "conform" => await ConformCommand.RunAsync(rest),
                "bench" => await BenchCommand.RunAsync(rest),
                "audit" => await AuditCommand.RunAsync(rest),
                "ensure" => await EnsureCommand.RunAsync(rest),
                "exporter" => await ExporterCommand.RunAsync(rest),
                _ => ExitCodes.Bad($"unknown command '{args[0]}' (explore, replay, conform, bench, audit, ensure, exporter)"),
            };
        }
        catch (SequenceFormatException e)
        {
            return ExitCodes.Bad(e.Message);
        }
        catch (UsageException e)
        {
            return ExitCodes.Bad(e.Message);
        }
        catch (DockerEngineUnavailableException e)
        {
            // --real without an engine, without the image, or with a Spilo image that can't be pulled: nothing was started.
            return ExitCodes.Bad(e.Message);
        }
        catch (ClusterWaitTimeoutException e)
        {
            // The real cluster did not come up or settle; the message's first line says what was awaited and what was seen.
            Console.Error.WriteLine($"patroni-model: {e.Message.Split('\n')[0].TrimEnd()} (containers removed; their logs are under artifacts/e2e/)");
            return ExitCodes.Failure;
        }
    }
}
