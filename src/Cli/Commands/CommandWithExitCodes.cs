using System.CommandLine;
using System.CommandLine.Invocation;

namespace PatroniModel.Cli.Commands;

/// <summary>A command whose <c>--help</c> ends with its exit codes (a script decides on them without parsing text).</summary>
public sealed class CommandWithExitCodes(string name, string description, string exitCodes) : Command(name, description)
{
    /// <summary>One or a few lines starting <c>exit codes:</c>.</summary>
    public string ExitCodes { get; } = exitCodes;
}

/// <summary>System.CommandLine's help, then the command's exit codes (<see cref="CommandWithExitCodes"/>).</summary>
public sealed class HelpWithExitCodes(SynchronousCommandLineAction help) : SynchronousCommandLineAction
{
    public const string RootExitCodes =
        "exit codes: 0 ok, 1 a property failed, model and reality disagree, or audit found a hazard, 2 bad input,\n" +
        "            130 stopped by Ctrl-C or SIGTERM after printing what ran; ensure has its own (patroni-model ensure --help)";

    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        var exit = help.Invoke(parseResult);
        var exitCodes = parseResult.CommandResult.Command switch
        {
            CommandWithExitCodes command => command.ExitCodes,
            RootCommand => RootExitCodes,
            _ => null,
        };
        if (exitCodes is not null)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(exitCodes);
        }
        return exit;
    }
}

/// <summary><c>--version</c>: <c>patroni-model</c> and the informational version the package was built with.</summary>
public sealed class PrintVersion : SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.WriteLine($"patroni-model {Program.Version}");
        return PatroniModel.Cli.ExitCodes.Ok;
    }
}
