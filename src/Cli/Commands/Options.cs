using System.Globalization;

namespace PatroniModel.Cli.Commands;

/// <summary>A small parser for <c>--name value</c> options and positional arguments; bad values throw <see cref="UsageException"/>.</summary>
public sealed class Options
{
    private readonly Dictionary<string, string?> named = new(StringComparer.Ordinal);
    private readonly List<string> positional = [];

    public Options(IReadOnlyList<string> args, IReadOnlySet<string> flags, IReadOnlySet<string> valued)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (flags.Contains(arg))
            {
                named[arg] = null;
            }
            else if (valued.Contains(arg))
            {
                if (i + 1 >= args.Count)
                {
                    throw new UsageException($"{arg} needs a value");
                }
                named[arg] = args[++i];
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unknown option '{arg}'");
            }
            else
            {
                positional.Add(arg);
            }
        }
    }

    public IReadOnlyList<string> Positional => positional;

    public bool Has(string name) => named.ContainsKey(name);

    public string? String(string name) => named.GetValueOrDefault(name);

    public int Int(string name, int fallback, int min = 1, int max = int.MaxValue)
    {
        if (!named.TryGetValue(name, out var text))
        {
            return fallback;
        }
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{name} must be a whole number in {min}..{max}, got '{text}'");
    }
}
