using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// The kinds of option the commands take, as System.CommandLine options whose bad values are one line naming the option
/// and the bound (collected as parse errors, printed by <see cref="Program"/>, exit 2). Every option takes at most one
/// value: a second <c>--runs</c> is an error, not "the last wins" (<see cref="ParseErrors"/>).
/// </summary>
public static class Options
{
    /// <summary>A flag: present or not.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>A text value the command checks itself (a path, a URL list); null when absent.</summary>
    public static Option<string?> Text(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName };

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, <paramref name="fallback"/> when absent; the bound is in its help.</summary>
    public static Option<int> WholeNumber(string name, string helpName, string description, int fallback, int min, int max) => new(name)
    {
        Description = $"{description} ({min} to {max})",
        HelpName = helpName,
        DefaultValueFactory = _ => fallback,
        CustomParser = result => ParseWholeNumber(result, name, min, max),
    };

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, null when absent.</summary>
    public static Option<int?> OptionalWholeNumber(string name, string helpName, string description, int min, int max) => new(name)
    {
        Description = $"{description} ({min} to {max})",
        HelpName = helpName,
        CustomParser = result => result.Tokens.Count == 0 ? null : ParseWholeNumber(result, name, min, max),
    };

    /// <summary>
    /// A value read by <paramref name="parse"/>, which throws <see cref="UsageException"/> with the one line to print;
    /// <c>default</c> when absent (nothing is parsed).
    /// </summary>
    public static Option<T> Parsed<T>(string name, string helpName, string description, Func<string, T> parse) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            if (result.Tokens.Count != 1)
            {
                return default!;
            }
            try
            {
                return parse(result.Tokens[0].Value);
            }
            catch (UsageException e)
            {
                result.AddError(e.Message);
                return default!;
            }
        },
    };

    /// <summary>
    /// A byte count: a whole number with an optional kB, MB, GB or TB suffix (powers of 1024, as PostgreSQL's), from 0 to
    /// <paramref name="max"/>; null when absent.
    /// </summary>
    public static Option<long?> ByteCount(string name, string description, long max) =>
        Parsed<long?>(name, "BYTES", $"{description} (0 to {max} bytes; kB, MB, GB, TB are powers of 1024)", text => ParseBytes(name, text, max));

    internal static long ParseBytes(string name, string text, long max)
    {
        var units = new (string Suffix, long Factor)[] { ("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("kB", 1L << 10), ("B", 1) };
        var (suffix, factor) = units.FirstOrDefault(u => text.EndsWith(u.Suffix, StringComparison.Ordinal), ("", 1));
        var number = text[..^suffix.Length];
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > max / factor || value * factor > max)
        {
            throw new UsageException($"{name} must be a byte count from 0 to {max} (e.g. 512MB, 10GB), got '{text}'");
        }
        return value * factor;
    }

    private static int ParseWholeNumber(ArgumentResult result, string name, int min, int max)
    {
        if (result.Tokens.Count != 1)
        {
            return 0;
        }
        var text = result.Tokens[0].Value;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }
        result.AddError($"{name} must be a whole number from {min} to {max}, got '{text}'");
        return 0;
    }
}
