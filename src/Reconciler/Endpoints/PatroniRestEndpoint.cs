using System.Net.Sockets;
using System.Text.Json;
using Npgsql;

namespace PatroniModel.Reconciler.Endpoints;

/// <summary>How to reach a real Patroni cluster: its REST API for the view, PostgreSQL for the leader session.</summary>
public sealed record PatroniEndpointOptions
{
    /// <summary>Patroni REST base URLs (e.g. <c>http://127.0.0.1:8008/</c>), tried in order on every call.</summary>
    public required IReadOnlyList<Uri> RestUrls { get; init; }

    public string Username { get; init; } = "postgres";
    public string? Password { get; init; }
    public string Database { get; init; } = "postgres";

    /// <summary>
    /// Maps a member's connect address as <c>GET /cluster</c> reports it to an address reachable from here
    /// (e.g. a container name to a published 127.0.0.1 port). Null: use the reported host and port.
    /// </summary>
    public Func<PatroniMember, (string Host, int Port)>? AddressMap { get; init; }

    /// <summary>Bound on each REST request and on opening a PostgreSQL connection.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Npgsql's <c>SslMode</c> for every PostgreSQL connection (null: Npgsql's default, <c>Prefer</c>).</summary>
    public SslMode? SslMode { get; init; }

    /// <summary>A CA certificate file (PEM) to verify the server with (Npgsql's <c>Root Certificate</c>); null: the system's.</summary>
    public string? RootCertificate { get; init; }

    /// <summary>Opens every session with <c>default_transaction_read_only=on</c> (the audit: it never writes).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>The Npgsql connection string for a member at <paramref name="host"/>:<paramref name="port"/>, with these options.</summary>
    public NpgsqlConnectionStringBuilder ConnectionStringFor(string host, int port, string applicationName = "patroni-model-reconciler")
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = host,
            Port = port,
            Username = Username,
            Password = Password,
            Database = Database,
            Pooling = false,
            Timeout = Math.Max(1, (int)Math.Ceiling(RequestTimeout.TotalSeconds)),
            ApplicationName = applicationName,
        };
        if (SslMode is { } sslMode)
        {
            builder.SslMode = sslMode;
        }
        if (RootCertificate is not null)
        {
            builder.RootCertificate = RootCertificate;
        }
        if (ReadOnly)
        {
            builder.Options = "-c default_transaction_read_only=on";
        }
        return builder;
    }

    /// <summary>Never prints the password (records print every property otherwise).</summary>
    public override string ToString() =>
        $"PatroniEndpointOptions {{ RestUrls = {string.Join(",", RestUrls)}, Username = {Username}, Database = {Database}, Password = {(Password is null ? "none" : "(set)")} }}";
}

/// <summary>
/// The real <see cref="IPatroniEndpoint"/>: Patroni's REST API (<c>GET /cluster</c>, <c>GET /config</c>,
/// https://patroni.readthedocs.io/en/latest/rest_api.html) and an Npgsql session on the leader.
/// </summary>
/// <param name="http">An HttpClient to use (not disposed here); null: one is created and owned.</param>
public sealed class PatroniRestEndpoint(PatroniEndpointOptions options, HttpClient? http = null) : IPatroniEndpoint, IDisposable
{
    private readonly HttpClient _http = http ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
    private readonly bool _ownsHttp = http is null;

    public PatroniEndpointOptions Options { get; } = Validated(options);

    /// <inheritdoc />
    public async Task<PatroniClusterView> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        var (json, answeredBy) = await GetJsonAsync("cluster", cancellationToken).ConfigureAwait(false);
        using (json)
        {
            return ParseCluster(json.RootElement, answeredBy);
        }
    }

    /// <inheritdoc />
    public async Task<PatroniSlotConfig> GetSlotConfigAsync(CancellationToken cancellationToken = default)
    {
        var (json, _) = await GetJsonAsync("config", cancellationToken).ConfigureAwait(false);
        using (json)
        {
            return ParseSlotConfig(json.RootElement);
        }
    }

    /// <inheritdoc />
    public async Task<ILeaderSession> ConnectAsync(PatroniMember leader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leader);
        var (host, port) = Options.AddressMap?.Invoke(leader) ?? (leader.Host, leader.Port);
        var builder = Options.ConnectionStringFor(host, port);
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new LeaderUnreachableException(leader.Name, host, port, e);
        }
        return new NpgsqlLeaderSession(leader.Name, builder.ConnectionString, connection);
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>Parses Patroni's <c>GET /cluster</c> body.</summary>
    public static PatroniClusterView ParseCluster(JsonElement root, string answeredBy)
    {
        var members = new List<PatroniMember>();
        if (root.ValueKind == JsonValueKind.Object
            && root.TryGetProperty("members", out var list)
            && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var m in list.EnumerateArray())
            {
                members.Add(new PatroniMember(
                    StringOf(m, "name") ?? "",
                    StringOf(m, "role") ?? "",
                    StringOf(m, "state") ?? "",
                    StringOf(m, "host") ?? "",
                    IntOf(m, "port") ?? 0,
                    IntOf(m, "timeline")));
            }
        }
        return new PatroniClusterView(members, answeredBy);
    }

    /// <summary>
    /// Parses the slot part of Patroni's <c>GET /config</c>: the logical permanent slots (Patroni 3.0.2 reads
    /// <c>permanent_replication_slots</c>, <c>permanent_slots</c> or <c>slots</c>, in that order; a slot is logical when
    /// its type is <c>logical</c>, or absent with a database and a plugin) and the <c>ignore_slots</c> rules.
    /// </summary>
    public static PatroniSlotConfig ParseSlotConfig(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return PatroniSlotConfig.Empty;
        }
        var permanent = new List<string>();
        foreach (var key in (string[])["permanent_replication_slots", "permanent_slots", "slots"])
        {
            if (root.TryGetProperty(key, out var slots) && slots.ValueKind == JsonValueKind.Object && slots.EnumerateObject().Any())
            {
                foreach (var slot in slots.EnumerateObject())
                {
                    if (IsLogicalPermanentSlot(slot.Value))
                    {
                        permanent.Add(slot.Name);
                    }
                }
                break;
            }
        }
        var ignore = new List<IgnoreSlotRule>();
        if (root.TryGetProperty("ignore_slots", out var rules) && rules.ValueKind == JsonValueKind.Array)
        {
            foreach (var rule in rules.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.Object))
            {
                ignore.Add(new IgnoreSlotRule(
                    RuleField(rule, "name", falsyIsUnset: false),
                    RuleField(rule, "type", falsyIsUnset: true),
                    RuleField(rule, "database", falsyIsUnset: true),
                    RuleField(rule, "plugin", falsyIsUnset: true)));
            }
        }
        return new PatroniSlotConfig(permanent, ignore);
    }

    private static bool IsLogicalPermanentSlot(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return false;
        }
        var database = StringOf(value, "database");
        var plugin = StringOf(value, "plugin");
        var type = StringOf(value, "type") ?? (database is not null && plugin is not null ? "logical" : "physical");
        return type == "logical" && !string.IsNullOrEmpty(database) && !string.IsNullOrEmpty(plugin);
    }

    private async Task<(JsonDocument Json, string AnsweredBy)> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var baseUrl in Options.RestUrls)
        {
            var url = new Uri(baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/"), path);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.RequestTimeout);
            try
            {
                using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    failures.Add($"{url} (HTTP {(int)response.StatusCode})");
                    continue;
                }
                var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                return (await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token).ConfigureAwait(false), baseUrl.ToString());
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{url} (no answer within {Options.RequestTimeout.TotalSeconds:0.#} s)");
            }
            catch (HttpRequestException e)
            {
                failures.Add($"{url} ({OneLine(e.InnerException?.Message ?? e.Message)})");
            }
            catch (JsonException e)
            {
                failures.Add($"{url} (not JSON: {OneLine(e.Message)})");
            }
        }
        throw new PatroniUnreachableException($"no Patroni REST endpoint answered GET /{path}: {string.Join("; ", failures)}");
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// One field of an <c>ignore_slots</c> rule as Patroni reads it (<c>SlotsHandler.ignore_replication_slot</c>):
    /// <c>matcher.get("name") is None or matcher["name"] == name</c>, and for type, database and plugin
    /// <c>not matcher.get(a) or matcher[a] == slot.get(a)</c>. So a missing or null field is unset; for type, database
    /// and plugin any falsy value (<c>""</c>, <c>false</c>, <c>0</c>, <c>[]</c>, <c>{}</c>) is unset too; a non-string
    /// value that is set never equals a slot's string (Python's <c>==</c>), so it is kept as
    /// <see cref="IgnoreSlotRule.Unmatchable"/> followed by its JSON text, which no slot name, type, database or plugin can equal.
    /// </summary>
    private static string? RuleField(JsonElement rule, string name, bool falsyIsUnset)
    {
        if (!rule.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }
        var falsy = value.ValueKind switch
        {
            JsonValueKind.False => true,
            JsonValueKind.Number => value.GetDouble() == 0,
            JsonValueKind.Array => value.GetArrayLength() == 0,
            JsonValueKind.Object => !value.EnumerateObject().Any(),
            _ => false,
        };
        return falsyIsUnset && falsy ? null : IgnoreSlotRule.Unmatchable + value.GetRawText();
    }

    private static int? IntOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i) ? i : null;

    private static PatroniEndpointOptions Validated(PatroniEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RestUrls is null || options.RestUrls.Count == 0)
        {
            throw new ArgumentException("at least one Patroni REST URL is needed", nameof(options));
        }
        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("RequestTimeout must be positive", nameof(options));
        }
        return options;
    }
}
