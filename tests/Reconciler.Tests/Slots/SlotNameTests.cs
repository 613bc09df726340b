using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Positions;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;
using PatroniModel.Reconciler.Naming;

namespace PatroniModel.Tests.ReconcilerTests.Slots;

/// <summary>Slot names PostgreSQL would refuse, including injection-shaped ones, are rejected before any request or SQL.</summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class SlotNameTests(LocalPatroniCluster cluster)
{
    public static TheoryData<string> BadNames => new()
    {
        "s1'; drop table x;--",
        "S1",
        "Slot",
        new string('a', 64),
        "",
        "s-1",
        "s 1",
        "../s1",
        "s1\0",
        "é",
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task EnsureSlot_WithABadName_ThrowsBeforeAskingPatroni(string name)
    {
        // Given an endpoint that would fail loudly if it were asked anything (a closed port)
        using var endpoint = new PatroniRestEndpoint(new PatroniEndpointOptions { RestUrls = [new Uri($"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}/")] });

        // When
        var error = await Assert.ThrowsAsync<InvalidSlotNameException>(() => new SlotReconciler(endpoint).EnsureSlotAsync(name, new ConfirmedPosition(default)));

        // Then
        Assert.Equal(name, error.Slot);
        Assert.False(SlotName.IsValid(name));
    }

    [Fact]
    public async Task LeaderSession_WithAnInjectionShapedName_SendsNoSql()
    {
        // Given a real leader session and a table the injection would drop
        var table = cluster.UniqueSlot("x");
        await cluster.ExecuteAsync($"CREATE TABLE {table} (id int)");
        using var endpoint = cluster.NewEndpoint();
        var leader = (await endpoint.GetClusterAsync()).Leader!;
        await using var session = await endpoint.ConnectAsync(leader);
        var name = $"s1'; drop table {table};--";

        // When
        await Assert.ThrowsAsync<InvalidSlotNameException>(() => session.FindSlotAsync(name));
        await Assert.ThrowsAsync<InvalidSlotNameException>(() => session.CreateLogicalSlotAsync(name, "test_decoding"));

        // Then
        Assert.Equal(1L, await cluster.ScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = $1", table));
        await cluster.ExecuteAsync($"DROP TABLE {table}");
    }

    [Fact]
    public async Task PositionStore_WithABadName_ThrowsBeforeTouchingAFile()
    {
        // Given an empty store directory
        var directory = Directory.CreateTempSubdirectory("positions-").FullName;
        try
        {
            var store = new FilePositionStore(directory);

            // When / Then
            await Assert.ThrowsAsync<InvalidSlotNameException>(() => store.SaveAsync("../escape", new ConfirmedPosition(default)));
            await Assert.ThrowsAsync<InvalidSlotNameException>(() => store.LoadAsync("S1"));
            Assert.Empty(Directory.EnumerateFileSystemEntries(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("s1")]
    [InlineData("cdc_orders_2")]
    [InlineData("_")]
    public void SlotName_AcceptsWhatPostgresAccepts(string name) => Assert.True(SlotName.IsValid(name));

    [Fact]
    public void SlotName_Accepts63CharactersButNot64() =>
        Assert.True(SlotName.IsValid(new string('a', 63)) && !SlotName.IsValid(new string('a', 64)));
}
