using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.E2E.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Scenarios;

/// <summary>The DCS flavor is a cluster option: Patroni's <c>etcd3:</c> section on etcd's v3 API instead of the v2 default.</summary>
[Collection(RealClusterCollection.Name)]
public sealed class DcsFlavorScenarios(SharedClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public Task Etcd3Flavor_LeaderKeyInEtcdV3AndSwitchoverKeepsEveryRow() => fixture.RunOnOwnClusterAsync(
        output, "Etcd3Flavor", SharedClusterFixture.Builder.WithMembers(2).WithDcs(DcsFlavor.Etcd3), async cluster =>
    {
        // Given a two-member cluster on Patroni's etcd3 section
        var leader = await cluster.SettleAsync();

        // Then Patroni keeps its keys in etcd's v3 keyspace
        var keys = await cluster.ExecAsync(cluster.Etcd, "ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 get --prefix /service --keys-only");
        output.WriteLine(keys.Stdout.Trim());
        Assert.Contains("/leader", keys.Stdout, StringComparison.Ordinal);
        Assert.Contains($"/members/{leader.Name}", keys.Stdout, StringComparison.Ordinal);

        // When rows are written and the leader switches over
        await cluster.MustAsync(new Write(20));
        var candidate = cluster.Replica(leader);
        await cluster.MustAsync(new Switchover(leader.Name, candidate.Name));
        var promoted = await cluster.SettleAsync();

        // Then the new leader holds every acknowledged row
        Assert.Equal(candidate.Name, promoted.Name);
        Assert.Equal(RowDigest.Compute(cluster.AcknowledgedRows), (await cluster.ReadDigestAsync(promoted)).Digest);
    });
}
