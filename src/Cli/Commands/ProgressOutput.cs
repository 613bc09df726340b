using Spectre.Console;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// Terminal output for long runs: colored step lines and verdicts on a terminal (Spectre.Console), plain lines otherwise
/// (redirected to a file or a pipe, as in CI).
/// </summary>
public sealed class ProgressOutput
{
    private readonly bool _rich = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Ansi;

    public void Line(string text)
    {
        if (_rich)
        {
            AnsiConsole.MarkupLine(Markup.Escape(text));
        }
        else
        {
            Console.WriteLine(text);
        }
    }

    public void Step(string text, bool ok)
    {
        if (_rich)
        {
            AnsiConsole.MarkupLine(ok ? Markup.Escape(text) : $"[red]{Markup.Escape(text)}[/]");
        }
        else
        {
            Console.WriteLine(text);
        }
    }

    public void Verdict(string text, bool ok)
    {
        if (_rich)
        {
            AnsiConsole.MarkupLine(ok ? $"[green]{Markup.Escape(text)}[/]" : $"[bold red]{Markup.Escape(text)}[/]");
        }
        else
        {
            Console.WriteLine(text);
        }
    }
}
