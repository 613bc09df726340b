using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using PatroniModel.Cli.Commands;
using PatroniModel.RealCluster.Docker;
using PatroniModel.RealCluster.Waiting;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Cli;

/// <summary>
/// The <c>patroni-model</c> command, on System.CommandLine: per-command <c>--help</c>/<c>-h</c> with the exit codes,
/// <c>--version</c>, completions through the <c>[suggest]</c> directive. Exit codes: 0 ok, 1 property failure or
/// disagreement, 2 bad input (one line on stderr, never a stack trace), 130 stopped by Ctrl-C or SIGTERM; <c>ensure</c> has
/// its own (<see cref="EnsureExitCodes"/>).
/// </summary>
public static class Program
{
    /// <summary>The informational version the package was built with (e.g. <c>0.1.0+abc123</c>).</summary>
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    public static Task<int> Main(string[] args) =>
        RunAsync(args, Console.Out, Console.Error, Environment.GetEnvironmentVariable, CancellationToken.None);

    /// <summary>
    /// Parses and runs one command line, writing to <paramref name="output"/> and <paramref name="error"/>;
    /// <paramref name="environment"/> is where the operator commands read the password; <paramref name="cancellationToken"/>
    /// stops the exporter (the other commands handle Ctrl-C and SIGTERM themselves, to print what they did).
    /// </summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        var root = Create(environment);
        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
            // The commands print their partial summary on Ctrl-C; System.CommandLine must not exit under them.
            ProcessTerminationTimeout = null,
        };
        if (args.Count == 0)
        {
            // No command: the overview, on stderr, and exit 2.
            await root.Parse(["--help"]).InvokeAsync(new InvocationConfiguration { Output = error, Error = error }, cancellationToken).ConfigureAwait(false);
            return ExitCodes.BadInput;
        }
        args = args[0] switch
        {
            "help" => [.. args.Skip(1), "--help"],
            "version" => ["--version"],
            _ => args,
        };
        var parsed = root.Parse(args);
        if ((parsed.Action is ParseErrorAction || parsed.Action == parsed.CommandResult.Command.Action) && ParseErrors.FirstLine(parsed) is { } problem)
        {
            return ExitCodes.Bad(error, problem);
        }
        try
        {
            return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (SequenceFormatException e)
        {
            return ExitCodes.Bad(error, e.Message);
        }
        catch (UsageException e)
        {
            return ExitCodes.Bad(error, e.Message);
        }
        catch (DockerEngineUnavailableException e)
        {
            // --real without an engine, without the image, or with a Spilo image that can't be pulled: nothing was started.
            return ExitCodes.Bad(error, e.Message);
        }
        catch (ClusterWaitTimeoutException e)
        {
            // The real cluster did not come up or settle; the message's first line says what was awaited and what was seen.
            await error.WriteLineAsync($"patroni-model: {e.Message.Split('\n')[0].TrimEnd()} (containers removed; their logs are under artifacts/e2e/)").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }

    /// <summary>The command tree: every command with its options, help with exit codes, <c>--version</c>, <c>[suggest]</c>.</summary>
    public static RootCommand Create(Func<string, string?> environment)
    {
        var root = new RootCommand(
            "patroni-model: audit and ensure the logical slots of a Patroni cluster (audit, ensure, exporter), and drive the "
            + "project's Patroni model and test clusters (explore, replay, conform, bench). 'patroni-model COMMAND --help' for each; "
            + "'patroni-model [suggest] TEXT' completes a command line.")
        {
            ExploreCommand.Create(),
            ReplayCommand.Create(),
            ConformCommand.Create(),
            BenchCommand.Create(),
            AuditCommand.Create(environment),
            EnsureCommand.Create(environment),
            ExporterCommand.Create(environment),
        };
        var help = root.Options.OfType<HelpOption>().Single();
        // On Linux "/h" and "/?" are paths (explore merge /h), not help.
        help.Aliases.Remove("/h");
        help.Aliases.Remove("/?");
        help.Action = new HelpWithExitCodes((SynchronousCommandLineAction)help.Action!);
        root.Options.OfType<VersionOption>().Single().Action = new PrintVersion();
        return root;
    }
}
