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
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        var exit = help.Invoke(parseResult);
        if (parseResult.CommandResult.Command is CommandWithExitCodes command)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(command.ExitCodes);
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
