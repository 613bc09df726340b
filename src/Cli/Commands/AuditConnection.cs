using System.Globalization;
using Npgsql;
using PatroniModel.Reconciler.Endpoints;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// The options <c>audit</c>, <c>ensure</c> and <c>exporter</c> share: how to reach the cluster. The password comes only from
/// the environment (<c>PATRONI_MODEL_PASSWORD</c>, else <c>PGPASSWORD</c>) or <c>--password-file</c>, never from the command
/// line, and is never printed.
/// </summary>
public static class AuditConnection
{
    public const string PasswordVariable = "PATRONI_MODEL_PASSWORD";

    public static readonly IReadOnlySet<string> Valued = new HashSet<string>
    {
        "--patroni", "--user", "--dbname", "--password-file", "--sslmode", "--sslrootcert", "--timeout",
    };

    public const string Help =
        "  --patroni URL[,URL...]   Patroni REST API base URLs (e.g. http://10.0.0.11:8008); tried in order\n" +
        "  --user NAME              PostgreSQL user (default postgres); the password comes from $PATRONI_MODEL_PASSWORD\n" +
        "                           (else $PGPASSWORD) or --password-file FILE, never from the command line\n" +
        "  --dbname NAME            database to connect to (default postgres)\n" +
        "  --sslmode MODE           disable, allow, prefer, require, verify-ca, verify-full (Npgsql's SslMode)\n" +
        "  --sslrootcert FILE       CA certificate (PEM) to verify the server with\n" +
        "  --timeout SECONDS        bound on each REST request and PostgreSQL connect (default 5, 1..300)";

    /// <summary>Builds the endpoint options; every bad value is a <see cref="UsageException"/> with one line.</summary>
    public static PatroniEndpointOptions Parse(OperatorOptions options, Func<string, string?> environment)
    {
        var urls = (options.String("--patroni") ?? throw new UsageException("--patroni URL[,URL...] is required"))
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(ParseUrl)
            .ToList();
        if (urls.Count is 0 or > 64)
        {
            throw new UsageException("--patroni needs 1 to 64 URLs");
        }
        var password = options.String("--password-file") is { } file ? ReadPasswordFile(file) : environment(PasswordVariable) ?? environment("PGPASSWORD");
        SslMode? sslMode = options.String("--sslmode") is { } mode ? ParseSslMode(mode) : null;
        var rootCert = options.String("--sslrootcert");
        if (rootCert is not null && !File.Exists(rootCert))
        {
            throw new UsageException($"--sslrootcert: no such file '{rootCert}'");
        }
        var user = options.String("--user") ?? "postgres";
        var database = options.String("--dbname") ?? "postgres";
        if (user.Length is 0 or > 63 || database.Length is 0 or > 63)
        {
            throw new UsageException("--user and --dbname must be 1 to 63 characters");
        }
        return new PatroniEndpointOptions
        {
            RestUrls = urls,
            Username = user,
            Password = string.IsNullOrEmpty(password) ? null : password,
            Database = database,
            SslMode = sslMode,
            RootCertificate = rootCert,
            RequestTimeout = TimeSpan.FromSeconds(options.Int("--timeout", 5, 1, 300)),
        };
    }

    private static Uri ParseUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            throw new UsageException($"--patroni: '{text}' is not an http:// or https:// URL");
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new UsageException("--patroni: put no credentials in the URL");
        }
        return uri;
    }

    private static SslMode ParseSslMode(string text) => text.ToLowerInvariant() switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new UsageException($"--sslmode must be disable, allow, prefer, require, verify-ca or verify-full, got '{text}'"),
    };

    private static string ReadPasswordFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new UsageException($"--password-file: no such file '{path}'");
            }
            if (info.Length > 4096)
            {
                throw new UsageException($"--password-file: '{path}' is larger than 4096 bytes; it should hold only the password");
            }
            // The first line, without its line ending (as pgpass-style files are written by `echo`).
            return File.ReadAllText(path).Split('\n')[0].TrimEnd('\r');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--password-file: can't read '{path}' ({e.GetType().Name.Replace("Exception", "", StringComparison.Ordinal)})");
        }
    }
}

/// <summary>
/// The operator commands' option parser: <c>--name value</c> and flags, an option given twice is an error (not "the last
/// wins"), <c>-h</c>/<c>--help</c> anywhere asks for help.
/// </summary>
public sealed class OperatorOptions
{
    private readonly Dictionary<string, string?> _named = new(StringComparer.Ordinal);
    private readonly List<string> _positional = [];

    public OperatorOptions(IReadOnlyList<string> args, IReadOnlySet<string> flags, IReadOnlySet<string> valued)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                WantsHelp = true;
                continue;
            }
            var isFlag = flags.Contains(arg);
            if (!isFlag && !valued.Contains(arg))
            {
                if (arg.StartsWith('-'))
                {
                    throw new UsageException($"unknown option '{arg}'");
                }
                _positional.Add(arg);
                continue;
            }
            if (_named.ContainsKey(arg))
            {
                throw new UsageException($"{arg} given twice");
            }
            if (isFlag)
            {
                _named[arg] = null;
                continue;
            }
            if (i + 1 >= args.Count)
            {
                throw new UsageException($"{arg} needs a value");
            }
            _named[arg] = args[++i];
        }
    }

    public bool WantsHelp { get; }

    public IReadOnlyList<string> Positional => _positional;

    public bool Has(string name) => _named.ContainsKey(name);

    public string? String(string name) => _named.GetValueOrDefault(name);

    public int Int(string name, int fallback, int min, int max)
    {
        if (!_named.TryGetValue(name, out var text))
        {
            return fallback;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{name} must be a whole number from {min} to {max}, got '{text}'");
    }

    /// <summary>A byte count: a whole number with an optional kB, MB, GB or TB suffix (powers of 1024, as PostgreSQL's).</summary>
    public long? Bytes(string name, long max)
    {
        if (!_named.TryGetValue(name, out var text) || text is null)
        {
            return null;
        }
        var units = new (string Suffix, long Factor)[] { ("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("kB", 1L << 10), ("B", 1) };
        var (suffix, factor) = units.FirstOrDefault(u => text.EndsWith(u.Suffix, StringComparison.Ordinal), ("", 1));
        var number = text[..^suffix.Length];
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > max / factor || value * factor > max)
        {
            throw new UsageException($"{name} must be a byte count from 0 to {max} (e.g. 512MB, 10GB), got '{text}'");
        }
        return value * factor;
    }
}
