using System.CommandLine;
using Npgsql;
using PatroniModel.Reconciler.Endpoints;

namespace PatroniModel.Cli.Commands;

/// <summary>
/// The options <c>audit</c>, <c>ensure</c> and <c>exporter</c> share: how to reach the cluster. The password comes only from
/// the environment (<c>PATRONI_MODEL_PASSWORD</c>, else <c>PGPASSWORD</c>) or <c>--password-file</c>, never from the command
/// line, and is never printed.
/// </summary>
public sealed class AuditConnection
{
    public const string PasswordVariable = "PATRONI_MODEL_PASSWORD";

    private readonly Option<string?> _patroni = Options.Text("--patroni", "URL[,URL...]",
        "Patroni REST API base URLs (e.g. http://10.0.0.11:8008), 1 to 64, tried in order (required)");
    private readonly Option<string?> _user = Options.Text("--user", "NAME",
        "PostgreSQL user, 1 to 63 characters (default postgres); the password comes from $PATRONI_MODEL_PASSWORD (else $PGPASSWORD) or --password-file FILE, never from the command line");
    private readonly Option<string?> _database = Options.Text("--dbname", "NAME", "database to connect to, 1 to 63 characters (default postgres)");
    private readonly Option<string?> _passwordFile = Options.Text("--password-file", "FILE", "a file whose first line is the password (at most 4096 bytes)");
    private readonly Option<SslMode?> _sslMode = Options.Parsed<SslMode?>("--sslmode", "MODE",
        "disable, allow, prefer, require, verify-ca, verify-full (Npgsql's SslMode)", text => ParseSslMode(text));
    private readonly Option<string?> _rootCertificate = Options.Text("--sslrootcert", "FILE", "CA certificate (PEM) to verify the server with");
    private readonly Option<int> _timeout = Options.WholeNumber("--timeout", "SECONDS", "bound on each REST request and PostgreSQL connect", 5, 1, 300);
    private readonly Func<string, string?> _environment;

    public AuditConnection(Func<string, string?> environment)
    {
        _environment = environment;
        // (not SslMode's names, which System.CommandLine offers for an enum: these are the spellings it takes)
        _sslMode.CompletionSources.Clear();
        _sslMode.CompletionSources.Add("disable", "allow", "prefer", "require", "verify-ca", "verify-full");
    }

    /// <summary>Adds the connection options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _patroni, _user, _database, _passwordFile, _sslMode, _rootCertificate, _timeout })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Builds the endpoint options; every bad value is a <see cref="UsageException"/> with one line.</summary>
    public PatroniEndpointOptions Parse(ParseResult parse)
    {
        var urls = (parse.GetValue(_patroni) ?? throw new UsageException("--patroni URL[,URL...] is required"))
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(ParseUrl)
            .ToList();
        if (urls.Count is 0 or > 64)
        {
            throw new UsageException("--patroni needs 1 to 64 URLs");
        }
        var password = parse.GetValue(_passwordFile) is { } file ? ReadPasswordFile(file) : _environment(PasswordVariable) ?? _environment("PGPASSWORD");
        var rootCert = parse.GetValue(_rootCertificate);
        if (rootCert is not null && !File.Exists(rootCert))
        {
            throw new UsageException($"--sslrootcert: no such file '{rootCert}'");
        }
        var user = parse.GetValue(_user) ?? "postgres";
        var database = parse.GetValue(_database) ?? "postgres";
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
            SslMode = parse.GetValue(_sslMode),
            RootCertificate = rootCert,
            RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(_timeout)),
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
