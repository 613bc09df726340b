using System.Globalization;

namespace PatroniModel.Cli.Commands;

/// <summary>A small parser for <c>--name value</c> options and positional arguments; bad values throw <see cref="UsageException"/>.</summary>
public sealed class Options
{
    private readonly Dictionary<string, string?> _named = new(StringComparer.Ordinal);
    private readonly List<string> _positional = [];

    public Options(IReadOnlyList<string> args, IReadOnlySet<string> flags, IReadOnlySet<string> valued)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (flags.Contains(arg))
            {
                _named[arg] = null;
            }
            else if (valued.Contains(arg))
            {
                if (i + 1 >= args.Count)
                {
                    throw new UsageException($"{arg} needs a value");
                }
                _named[arg] = args[++i];
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unknown option '{arg}'");
            }
            else
            {
                _positional.Add(arg);
            }
        }
    }

    public IReadOnlyList<string> Positional => _positional;

    public bool Has(string name) => _named.ContainsKey(name);

    public string? String(string name) => _named.GetValueOrDefault(name);

    public int Int(string name, int fallback, int min = 1, int max = int.MaxValue)
    {
        if (!_named.TryGetValue(name, out var text))
        {
            return fallback;
        }
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{name} must be a whole number in {min}..{max}, got '{text}'");
    }
}
