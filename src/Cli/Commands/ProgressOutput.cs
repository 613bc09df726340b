using Spectre.Console;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// Terminal output for long runs: on a terminal (Spectre.Console), colored step lines and verdicts, each line fitted to
/// the terminal's width (steps and observations cut with <c>…</c>, so a 300-character observation stays one row instead of wrapping four times
/// at 80 columns); otherwise (redirected to a file or a pipe, as in CI) plain, full lines. Each line is written and
/// flushed when it is made, so a long replay streams. The full lines are always in the run's <c>history.txt</c>.
/// </summary>
public sealed class ProgressOutput
{
    private readonly IAnsiConsole? _terminal;
    private readonly TextWriter _plain;

    /// <summary>The process's console: Spectre.Console's when stdout is a terminal that takes ANSI, else <see cref="Console.Out"/>.</summary>
    public ProgressOutput()
        : this(!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Ansi ? AnsiConsole.Console : null, Console.Out)
    {
    }

    /// <summary>Writes to <paramref name="terminal"/> (lines fitted to its width) when given, else full lines to <paramref name="plain"/>.</summary>
    public ProgressOutput(IAnsiConsole? terminal, TextWriter plain)
    {
        _terminal = terminal;
        _plain = plain;
    }

    /// <summary>The width lines are fitted to, or null when lines are written in full (not a terminal).</summary>
    public int? Width => _terminal?.Profile.Width;

    /// <summary>A line written whole everywhere: a header, a path, a command to repeat.</summary>
    public void Line(string text) => Write(text, null, fit: false);

    /// <summary>A detail line (an observation), fitted to the terminal's width.</summary>
    public void Detail(string text) => Write(text, null, fit: true);

    /// <summary>A step's line, fitted to the terminal's width; red when the step broke something.</summary>
    public void Step(string text, bool ok) => Write(text, ok ? null : "red", fit: true);

    /// <summary>The verdict, whole: green when it holds.</summary>
    public void Verdict(string text, bool ok) => Write(text, ok ? "green" : "bold red", fit: false);

    /// <summary>
    /// <paramref name="text"/> cut to <paramref name="width"/> characters, the last one <c>…</c>, when it is longer; a
    /// width under 2 leaves it whole.
    /// </summary>
    public static string Fit(string text, int width) =>
        width < 2 || text.Length <= width ? text : string.Concat(text.AsSpan(0, width - 1), "…");

    private void Write(string text, string? style, bool fit)
    {
        if (_terminal is null)
        {
            _plain.WriteLine(text);
            _plain.Flush();
            return;
        }
        if (!fit && style is null)
        {
            // Whole, as one line the terminal itself wraps: a path or a command copied from it has no line break in it.
            _terminal.Profile.Out.Writer.WriteLine(text);
            _terminal.Profile.Out.Writer.Flush();
            return;
        }
        var line = Markup.Escape(fit ? Fit(text, _terminal.Profile.Width) : text);
        _terminal.MarkupLine(style is null ? line : $"[{style}]{line}[/]");
    }
}
