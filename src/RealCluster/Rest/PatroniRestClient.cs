using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PatroniModel.RealCluster.Rest;

/// <summary>A member as Patroni's <c>GET /cluster</c> lists it.</summary>
public sealed record RestMember(string Name, string Role, string State, int? Timeline, long? Lag)
{
    public bool IsLeader => Role is "leader" or "master" or "primary" or "standby_leader";

    public override string ToString() => $"{Name} {Role}/{State}" + (Timeline is { } tl ? $" tl{tl}" : "");
}

/// <summary>Patroni's <c>GET /cluster</c> answer, with who answered it.</summary>
public sealed record RestClusterView(IReadOnlyList<RestMember> Members, string AnsweredBy)
{
    public RestMember? Leader => Members.FirstOrDefault(m => m.IsLeader);

    public override string ToString() =>
        $"[{string.Join(", ", Members)}] (answered by {AnsweredBy})";
}

/// <summary>A member's own view (<c>GET /patroni</c>).</summary>
public sealed record RestMemberStatus(string State, string Role, int? Timeline);

/// <summary>An answer to a Patroni REST command: status code and body text.</summary>
public sealed record RestAnswer(HttpStatusCode Status, string Body)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;

    public override string ToString() => $"{(int)Status} {Body.Trim()}";
}

/// <summary>
/// Patroni's REST API (https://patroni.readthedocs.io/en/latest/rest_api.html) on members addressed by container IP.
/// Every call has its own timeout: a frozen or partitioned member must not hang a wait.
/// </summary>
public sealed class PatroniRestClient(HttpClient http)
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(2);

    /// <summary><c>GET /cluster</c> from <paramref name="baseUri"/>; null when the member does not answer in time.</summary>
    public async Task<RestClusterView?> TryGetClusterAsync(Uri baseUri, CancellationToken cancellationToken = default)
    {
        var json = await TryGetJsonAsync(new Uri(baseUri, "cluster"), cancellationToken).ConfigureAwait(false);
        if (json?["members"] is not JsonArray members)
        {
            return null;
        }
        var list = members.OfType<JsonObject>().Select(m => new RestMember(
            (string?)m["name"] ?? "?",
            (string?)m["role"] ?? "?",
            (string?)m["state"] ?? "?",
            m["timeline"] is JsonValue tl && tl.TryGetValue<int>(out var t) ? t : null,
            m["lag"] is JsonValue lag && lag.TryGetValue<long>(out var l) ? l : null)).ToList();
        return new RestClusterView(list, baseUri.Authority);
    }

    /// <summary><c>GET /patroni</c>: the member's state, role and timeline; null when it does not answer in time.</summary>
    public async Task<RestMemberStatus?> TryGetStatusAsync(Uri baseUri, CancellationToken cancellationToken = default)
    {
        var json = await TryGetJsonAsync(new Uri(baseUri, "patroni"), cancellationToken).ConfigureAwait(false);
        if (json is null)
        {
            return null;
        }
        return new RestMemberStatus(
            (string?)json["state"] ?? "?",
            (string?)json["role"] ?? "?",
            json["timeline"] is JsonValue tl && tl.TryGetValue<int>(out var t) ? t : null);
    }

    /// <summary><c>GET /config</c>: the dynamic configuration; null when the member does not answer in time.</summary>
    public Task<JsonNode?> TryGetConfigAsync(Uri baseUri, CancellationToken cancellationToken = default) =>
        TryGetJsonAsync(new Uri(baseUri, "config"), cancellationToken);

    /// <summary><c>POST /switchover</c> with leader and optional candidate.</summary>
    public Task<RestAnswer> SwitchoverAsync(Uri baseUri, string leader, string? candidate, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject { ["leader"] = leader };
        if (candidate is not null)
        {
            body["candidate"] = candidate;
        }
        return SendAsync(HttpMethod.Post, new Uri(baseUri, "switchover"), body, TimeSpan.FromSeconds(60), cancellationToken);
    }

    /// <summary><c>POST /failover</c> with a candidate.</summary>
    public Task<RestAnswer> FailoverAsync(Uri baseUri, string candidate, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, new Uri(baseUri, "failover"), new JsonObject { ["candidate"] = candidate }, TimeSpan.FromSeconds(60), cancellationToken);

    /// <summary><c>POST /restart</c>: Patroni restarts the member's PostgreSQL and answers when it is done.</summary>
    public Task<RestAnswer> RestartAsync(Uri baseUri, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, new Uri(baseUri, "restart"), new JsonObject(), TimeSpan.FromSeconds(90), cancellationToken);

    /// <summary><c>PATCH /config</c>: merges <paramref name="patch"/> into the dynamic configuration (null removes a key).</summary>
    public Task<RestAnswer> PatchConfigAsync(Uri baseUri, JsonObject patch, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, new Uri(baseUri, "config"), patch, TimeSpan.FromSeconds(15), cancellationToken);

    private async Task<JsonNode?> TryGetJsonAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        try
        {
            using var response = await http.GetAsync(uri, timeout.Token).ConfigureAwait(false);
            // /patroni answers 503 on a replica or a stopped PostgreSQL, with the same JSON body.
            var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            return JsonNode.Parse(text);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task<RestAnswer> SendAsync(HttpMethod method, Uri uri, JsonObject body, TimeSpan timeoutAfter, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(timeoutAfter);
        using var request = new HttpRequestMessage(method, uri)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        try
        {
            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            return new RestAnswer(response.StatusCode, text);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new RestAnswer(HttpStatusCode.ServiceUnavailable, $"{method} {uri} got no answer: {e.GetBaseException().Message}");
        }
    }
}
