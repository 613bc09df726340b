using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Reports;
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
        // Given a real Patroni member that may never be leader (nofailover) in a scope nobody bootstrapped
        var leaderless = await cluster.LeaderlessRestUrlAsync();
        using var endpoint = new PatroniRestEndpoint(new PatroniEndpointOptions { RestUrls = [leaderless] });

        // When
        var error = await Assert.ThrowsAsync<NoLeaderException>(() => new SlotReconciler(endpoint).EnsureSlotAsync("s1", null));

        // Then
        Assert.Equal($"no leader in the Patroni cluster: pg9 replica/stopped (answered by {leaderless})", error.Message);
        var member = Assert.Single(error.Seen.Members);
        Assert.Null(member.Timeline);
        Assert.Null(error.Seen.Leader);
    }

    [Fact]
    public async Task GetSlotConfig_WhenAnEndpointAnswersWithAnHttpError_SaysSoAndTriesTheNext()
    {
        // Given a Patroni whose scope has no configuration yet (GET /config answers 502), then a closed port
        var leaderless = await cluster.LeaderlessRestUrlAsync();
        var closed = new Uri($"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}/");
        using var endpoint = new PatroniRestEndpoint(new PatroniEndpointOptions { RestUrls = [leaderless, closed] });

        // When
        var error = await Assert.ThrowsAsync<PatroniUnreachableException>(() => endpoint.GetSlotConfigAsync());

        // Then
        Assert.Equal(
            $"no Patroni REST endpoint answered GET /config: {leaderless}config (HTTP 502); {closed}config (Connection refused)",
            error.Message);
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
    public async Task GetSlotConfig_ReadsAPermanentSlotDeclaredThroughPatchConfig()
    {
        // Given a logical permanent slot declared through Patroni's REST API
        var slot = cluster.UniqueSlot("cfg");
        using var endpoint = cluster.NewEndpoint();
        await cluster.PatchConfigAsync("{\"permanent_slots\": {\"" + slot + "\": {\"type\": \"logical\", \"database\": \"postgres\", \"plugin\": \"test_decoding\"}}}");
        try
        {
            // When
            var config = await endpoint.GetSlotConfigAsync();

            // Then
            Assert.Contains(slot, config.PermanentSlots);
            Assert.Equal(SlotProtection.Permanent, SlotReconciler.ProtectionOf(slot, config));
        }
        finally
        {
            await cluster.PatchConfigAsync("{\"permanent_slots\": {\"" + slot + "\": null}}");
            await cluster.DropSlotWhenInactiveAsync(slot);
            await cluster.SettleSlotsAsync();
        }
    }

    [Fact]
    public async Task GetCluster_WhenAnEndpointAcceptsButNeverAnswers_GivesUpAfterTheRequestTimeout()
    {
        // Given a socket that accepts connections and never answers, then the real member
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var silentUrl = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/");
        using var endpoint = new PatroniRestEndpoint(new PatroniEndpointOptions
        {
            RestUrls = [silentUrl],
            RequestTimeout = TimeSpan.FromMilliseconds(300),
        });

        // When
        var error = await Assert.ThrowsAsync<PatroniUnreachableException>(() => endpoint.GetClusterAsync());

        // Then
        Assert.Equal($"no Patroni REST endpoint answered GET /cluster: {silentUrl}cluster (no answer within 0.3 s)", error.Message);
    }
}
