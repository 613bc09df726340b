using System.Text.Json;
using PatroniModel.Cli;

namespace PatroniModel.Tests.OperatorTests.Commands;

/// <summary>What one in-process run of an operator command printed and returned.</summary>
public sealed record CommandResult(int ExitCode, string Output, string Error)
{
    /// <summary>The <c>--json</c> lines, parsed.</summary>
    public IReadOnlyList<JsonElement> JsonLines =>
        Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";
}

/// <summary>Runs a command's <c>RunAsync(args, out, err, environment, token)</c> as <c>Program.Main</c> would: a usage error is one line and exit 2.</summary>
public static class CommandRun
{
    public delegate Task<int> Command(string[] args, TextWriter output, TextWriter error, Func<string, string?> environment, CancellationToken cancellationToken);

    public static async Task<CommandResult> RunAsync(Command command, IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code;
        try
        {
            code = await command(args, output, error, name => environment?.GetValueOrDefault(name), cancellationToken);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"patroni-model: {e.Message}");
            code = ExitCodes.BadInput;
        }
        return new CommandResult(code, output.ToString(), error.ToString());
    }
}
