using System.Net;
using System.Text;
using System.Text.Json;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Endpoints;

/// <summary>Leader discovery and Patroni's configuration through the real REST API, and what happens when it fails.</summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class PatroniRestEndpointTests(LocalPatroniCluster cluster)
{
    [Fact]
    public async Task GetCluster_ReadsTheLeaderWithItsAddressAndTimeline()
    {
        // Given the real single-member cluster
        using var endpoint = cluster.NewEndpoint();

        // When
        var view = await endpoint.GetClusterAsync();

        // Then
        var leader = Assert.Single(view.Members);
        Assert.Equal(new PatroniMember(LocalPatroniCluster.Member, "leader", "running", "127.0.0.1", cluster.PostgresPort, 1), leader);
        Assert.Same(leader, view.Leader);
        Assert.Equal(cluster.RestUrl.ToString(), view.AnsweredBy);
    }

    [Fact]
    public async Task GetCluster_WhenTheFirstUrlIsClosed_AsksTheNextOne()
    {
        // Given a closed port first, then the real member
        var closed = new Uri($"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}/");
        using var endpoint = new PatroniRestEndpoint(new PatroniEndpointOptions { RestUrls = [closed, cluster.RestUrl] });

        // When
        var view = await endpoint.GetClusterAsync();

        // Then
        Assert.Equal(cluster.RestUrl.ToString(), view.AnsweredBy);
        Assert.Equal(LocalPatroniCluster.Member, view.Leader?.Name);
    }

    [Fact]
    public async Task EnsureSlot_WhenNoRestEndpointAnswers_ThrowsUnreachableWithOneLineNamingEachUrl()
    {
        // Given two closed ports
        var first = new Uri($"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}/");
        var second = new Uri($"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}/");
        using var endpoint = new PatroniRestEndpoint(new PatroniEndpointOptions { RestUrls = [first, second] });

        // When
        var error = await Assert.ThrowsAsync<PatroniUnreachableException>(() => new SlotReconciler(endpoint).EnsureSlotAsync("s1", null));

        // Then
        Assert.DoesNotContain('\n', error.Message);
        Assert.StartsWith("no Patroni REST endpoint answered GET /cluster: ", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{first}cluster (Connection refused", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{second}cluster (Connection refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureSlot_WhenPatroniAnswersWithoutALeader_ThrowsNoLeaderNamingTheMembersSeen()
    {
        // Given a REST answer without a leader. Test double for the REST answer only: a single real member can't be
        // made leaderless on demand; the body is Patroni 3.0.2's /cluster shape with the leader gone.
        await using var rest = await StaticRestServer.StartAsync("""
            {"members": [{"name": "pg1", "role": "replica", "state": "stopped", "api_url": "http://127.0.0.1:1/patroni", "host": "127.0.0.1", "port": 1},
                         {"name": "pg2", "role": "replica", "state": "running", "host": "127.0.0.1", "port": 2, "timeline": 3, "lag": 0}]}
            """);
        using var endpoint = new PatroniRestEndpoint(new PatroniEndpointOptions { RestUrls = [rest.Url] });

        // When
        var error = await Assert.ThrowsAsync<NoLeaderException>(() => new SlotReconciler(endpoint).EnsureSlotAsync("s1", null));

        // Then
        Assert.Equal($"no leader in the Patroni cluster: pg1 replica/stopped, pg2 replica/running (answered by {rest.Url})", error.Message);
        Assert.Null(error.Seen.Members[0].Timeline);
        Assert.Equal(3, error.Seen.Members[1].Timeline);
    }

    [Fact]
    public async Task GetCluster_WhenAnEndpointAnswersWithAnHttpError_SaysSoAndTriesTheNext()
    {
        // Given an endpoint answering 503 (test double for the REST answer), then a closed port
        await using var rest = await StaticRestServer.StartAsync("{}", HttpStatusCode.ServiceUnavailable);
        var closed = new Uri($"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}/");
        using var endpoint = new PatroniRestEndpoint(new PatroniEndpointOptions { RestUrls = [rest.Url, closed] });

        // When
        var error = await Assert.ThrowsAsync<PatroniUnreachableException>(() => endpoint.GetClusterAsync());

        // Then
        Assert.Contains($"{rest.Url}cluster (HTTP 503)", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{closed}cluster (Connection refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseSlotConfig_KeepsOnlyLogicalPermanentSlotsAndReadsIgnoreRules()
    {
        // Given a /config body with logical, physical, typeless and incomplete permanent slots (Patroni 3.0.2's rules)
        using var json = JsonDocument.Parse("""
            {"loop_wait": 1,
             "permanent_slots": {"cdc": {"type": "logical", "database": "postgres", "plugin": "pgoutput"},
                                 "typeless": {"database": "app", "plugin": "test_decoding"},
                                 "phys": {"type": "physical"}, "bare": null, "noplugin": {"type": "logical", "database": "x"}},
             "ignore_slots": [{"name": "keep"}, {"type": "logical", "plugin": "wal2json"}]}
            """);

        // When
        var config = PatroniRestEndpoint.ParseSlotConfig(json.RootElement);

        // Then
        Assert.Equal(["cdc", "typeless"], config.PermanentSlots);
        Assert.Equal([new IgnoreSlotRule("keep"), new IgnoreSlotRule(null, "logical", null, "wal2json")], config.IgnoreSlots);
    }

    [Fact]
    public void ParseSlotConfig_ReadsTheOlderSlotsKey()
    {
        // Given the pre-3.0 name of the key
        using var json = JsonDocument.Parse("""{"slots": {"old": {"type": "logical", "database": "postgres", "plugin": "test_decoding"}}}""");

        // When / Then
        Assert.Equal(["old"], PatroniRestEndpoint.ParseSlotConfig(json.RootElement).PermanentSlots);
    }

    [Fact]
    public async Task GetSlotConfig_ReadsPatronisLiveConfiguration()
    {
        // Given the real cluster, whose bootstrap configuration has loop_wait 1
        using var endpoint = cluster.NewEndpoint();

        // When
        var config = await endpoint.GetSlotConfigAsync();

        // Then every permanent slot it lists is a name PostgreSQL accepts (the live list depends on earlier tests)
        Assert.All(config.PermanentSlots, slot => Assert.True(SlotName.IsValid(slot), slot));
    }

    /// <summary>Serves one fixed body on every path of a free 127.0.0.1 port (a REST answer double; nothing else is faked).</summary>
    private sealed class StaticRestServer : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly Task _loop;

        private StaticRestServer(HttpListener listener, string body, HttpStatusCode status)
        {
            _listener = listener;
            Url = new Uri(listener.Prefixes.Single());
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }
                    var bytes = Encoding.UTF8.GetBytes(body);
                    context.Response.StatusCode = (int)status;
                    context.Response.ContentType = "application/json";
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        public Uri Url { get; }

        public static Task<StaticRestServer> StartAsync(string body, HttpStatusCode status = HttpStatusCode.OK)
        {
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}/");
            listener.Start();
            return Task.FromResult(new StaticRestServer(listener, body, status));
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
        }
    }
}
