using NpgsqlTypes;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Endpoints;

/// <summary>The real leader session against the Patroni leader's PostgreSQL.</summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class NpgsqlLeaderSessionTests(LocalPatroniCluster cluster)
{
    private async Task<ILeaderSession> ConnectAsync(PatroniRestEndpoint endpoint) =>
        await endpoint.ConnectAsync((await endpoint.GetClusterAsync()).Leader!);

    [Fact]
    public async Task IdentifySystem_ReturnsTheServersSystemIdTimelineAndWalPosition()
    {
        // Given
        using var endpoint = cluster.NewEndpoint();
        await using var session = await ConnectAsync(endpoint);
        var before = await cluster.CurrentWalLsnAsync();

        // When
        var identity = await session.IdentifySystemAsync();

        // Then
        Assert.Equal((await cluster.ScalarAsync<long>("SELECT system_identifier FROM pg_control_system()")).ToString(), identity.SystemId);
        Assert.Equal(1, identity.Timeline);
        Assert.True(identity.XLogPos >= before);
        Assert.Empty(await session.TimelineHistoryAsync(1));
    }

    [Fact]
    public async Task FindSlot_ReturnsTheRowOfPgReplicationSlots()
    {
        // Given a slot created by the session
        var slot = cluster.UniqueSlot("find");
        using var endpoint = cluster.NewEndpoint();
        await using var session = await ConnectAsync(endpoint);
        var consistentPoint = await session.CreateLogicalSlotAsync(slot, "test_decoding");
        try
        {
            // When
            var state = await session.FindSlotAsync(slot);

            // Then
            var restart = await cluster.ScalarAsync<NpgsqlLogSequenceNumber>("SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = $1::name", slot);
            Assert.Equal(new SlotState(slot, "logical", "test_decoding", "postgres", false, restart, consistentPoint), state);
            Assert.Equal(consistentPoint, await cluster.ConfirmedFlushAsync(slot));
            Assert.Null(await session.FindSlotAsync(cluster.UniqueSlot("absent")));
        }
        finally
        {
            await cluster.DropSlotAsync(slot);
        }
    }

    [Fact]
    public async Task CreateLogicalSlot_WhenItExists_ThrowsSlotAlreadyExists()
    {
        // Given
        var slot = cluster.UniqueSlot("dup");
        using var endpoint = cluster.NewEndpoint();
        await using var session = await ConnectAsync(endpoint);
        await session.CreateLogicalSlotAsync(slot, "test_decoding");
        try
        {
            // When
            var error = await Assert.ThrowsAsync<SlotAlreadyExistsException>(() => session.CreateLogicalSlotAsync(slot, "test_decoding"));

            // Then the session is still usable
            Assert.Equal(slot, error.Slot);
            Assert.NotNull(await session.FindSlotAsync(slot));
        }
        finally
        {
            await cluster.DropSlotAsync(slot);
        }
    }

    [Fact]
    public async Task Connect_WhenTheLeadersAddressIsClosed_ThrowsLeaderUnreachableNamingTheAddress()
    {
        // Given an address map that points the leader at a closed port
        var port = LocalPatroniCluster.ClosedPort();
        using var endpoint = cluster.NewEndpoint(_ => ("127.0.0.1", port));

        // When
        var error = await Assert.ThrowsAsync<LeaderUnreachableException>(() => ConnectAsync(endpoint));

        // Then
        Assert.StartsWith($"cannot connect to leader pg1 at 127.0.0.1:{port}: ", error.Message, StringComparison.Ordinal);
    }
}
