using System.CommandLine;
using System.CommandLine.Parsing;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// What is wrong with a parsed command line, as the one line printed before exit 2: an option given twice, an option
/// without its value, an unknown option, command or argument, or the first bad value an option's parser reported.
/// System.CommandLine's own wording (and the help it prints after an error) is replaced by the project's.
/// </summary>
public static class ParseErrors
{
    /// <summary>The line to print, or null when the command line is usable.</summary>
    public static string? FirstLine(ParseResult result)
    {
        foreach (var option in Options(result.CommandResult))
        {
            if (option.IdentifierTokenCount > 1)
            {
                return $"{option.Option.Name} given twice";
            }
        }
        // "explore --runs 5 merge DIR": merge would silently ignore its parent's option.
        if (result.CommandResult.Parent is CommandResult { Command: not RootCommand } parent
            && Options(parent).FirstOrDefault(o => o.IdentifierTokenCount > 0) is { } misplaced)
        {
            return $"{misplaced.Option.Name} is an option of {Path(parent)}, not of {Path(result.CommandResult)}";
        }
        foreach (var option in Options(result.CommandResult))
        {
            if (option.Option.Arity.MinimumNumberOfValues > 0 && option.Tokens.Count == 0 && !option.Implicit)
            {
                return $"{option.Option.Name} needs a value";
            }
        }
        // System.CommandLine hands an unknown "--fast" to a positional argument that takes it (replay's file, merge's
        // folders); it is an unknown option unless it comes after "--".
        if (!result.Tokens.Any(t => t.Type == TokenType.DoubleDash)
            && Arguments(result.CommandResult).SelectMany(a => a.Tokens).FirstOrDefault(t => t.Value.Length > 1 && t.Value.StartsWith('-')) is { } dashed)
        {
            return $"unknown option '{dashed.Value}'";
        }
        if (result.UnmatchedTokens.Count > 0)
        {
            var token = result.UnmatchedTokens[0];
            var command = result.CommandResult.Command;
            return token.StartsWith('-') ? $"unknown option '{token}'"
                : command is RootCommand ? $"unknown command '{token}' ({string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))})"
                : command.Arguments.Count > 0 ? $"{Path(result.CommandResult)} takes one {command.Arguments[0].Name}, got another argument '{token}'"
                : $"{Path(result.CommandResult)} takes no argument '{token}' (see patroni-model {Path(result.CommandResult)} --help)";
        }
        // "Required command was not provided" (a command that only groups others): the help says which.
        var error = result.Errors.FirstOrDefault(e => e.SymbolResult is not CommandResult)
                    ?? result.Errors.FirstOrDefault();
        if (error is null)
        {
            return null;
        }
        return error.SymbolResult is CommandResult { Command: var c } && c.Action is null
            ? $"{Path(result.CommandResult)} needs a command ({string.Join(", ", c.Subcommands.Select(s => s.Name))})"
            : error.Message;
    }

    /// <summary>The command's path without the root, e.g. <c>explore merge</c>.</summary>
    public static string Path(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? r = command; r is CommandResult { Command: not RootCommand } c; r = r.Parent)
        {
            names.Insert(0, c.Command.Name);
        }
        return string.Join(" ", names);
    }

    private static IEnumerable<ArgumentResult> Arguments(CommandResult command)
    {
        for (SymbolResult? r = command; r is CommandResult c; r = r.Parent)
        {
            foreach (var argument in c.Children.OfType<ArgumentResult>())
            {
                yield return argument;
            }
        }
    }

    private static IEnumerable<OptionResult> Options(CommandResult command)
    {
        for (SymbolResult? r = command; r is CommandResult c; r = r.Parent)
        {
            foreach (var option in c.Children.OfType<OptionResult>())
            {
                yield return option;
            }
        }
    }
}
