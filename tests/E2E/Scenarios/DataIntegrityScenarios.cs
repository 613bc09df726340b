using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.E2E.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Scenarios;

/// <summary>Data integrity: the committed rows' digest is byte-identical across failovers and on every member.</summary>
[Collection(RealClusterCollection.Name)]
public sealed class DataIntegrityScenarios(SharedClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public Task AcrossHardFailoverAndRejoin_DigestIdenticalOnPromotedLeaderAndRevivedNode() => fixture.RunAsync(output, "DataIntegrity.AcrossHardFailoverAndRejoin", async cluster =>
    {
        // Given acknowledged writes replicated to every member
        await cluster.MustAsync(new Write(50));
        var leader = await cluster.SettleAsync();
        var expected = RowDigest.Compute(cluster.AcknowledgedRows);
        Assert.Equal(expected, (await cluster.ReadDigestAsync(leader)).Digest);

        // When the leader is SIGKILLed and a replica is promoted
        await cluster.MustAsync(new Kill(leader.Name));
        var promoted = await cluster.WaitForNewLeaderAsync(leader);

        // Then the promoted leader's digest of all committed rows is byte-identical
        Assert.Equal(expected, (await cluster.ReadDigestAsync(promoted)).Digest);

        // When it takes more writes and the killed node is revived
        await cluster.MustAsync(new Write(20));
        await cluster.MustAsync(new Start(leader.Name));
        await cluster.SettleAsync();

        // Then the revived node, read directly, converges to the leader's exact digest, which covers every acknowledged row
        var final = RowDigest.Compute(cluster.AcknowledgedRows);
        var (leaderDigest, leaderRows) = await cluster.ReadDigestAsync(promoted);
        var (revivedDigest, revivedRows) = await cluster.ReadDigestAsync(leader);
        output.WriteLine($"leader {promoted.Name} {leaderDigest} ({leaderRows} rows), revived {leader.Name} {revivedDigest} ({revivedRows} rows)");
        Assert.Equal(final, leaderDigest);
        Assert.Equal(leaderDigest, revivedDigest);
        Assert.Equal(cluster.AcknowledgedRows.Length, revivedRows);
    });

    [Fact]
    public Task AcrossSwitchover_EveryCommittedRowPreservedAndFurtherWritesDurable() => fixture.RunAsync(output, "DataIntegrity.AcrossSwitchover", async cluster =>
    {
        // Given acknowledged writes
        var leader = await cluster.SettleAsync();
        var failedBefore = cluster.FailedWrites;
        await cluster.MustAsync(new Write(50));
        var expected = RowDigest.Compute(cluster.AcknowledgedRows);

        // When the leader hands over without waiting for the replicas first
        var candidate = cluster.Replica(leader);
        await cluster.MustAsync(new Switchover(leader.Name, candidate.Name));
        var promoted = await cluster.WaitForLeaderAsync();

        // Then every committed row is on the new leader
        Assert.Equal(candidate.Name, promoted.Name);
        Assert.Equal(expected, (await cluster.ReadDigestAsync(promoted)).Digest);

        // And the new leader durably holds further writes: they survive a restart of its PostgreSQL
        // (Patroni refuses a restart while it is still finishing the promotion: settle first)
        await cluster.MustAsync(new Write(30));
        await cluster.SettleAsync();
        await cluster.MustAsync(new Restart(promoted.Name));
        var afterRestart = await cluster.SettleAsync();
        Assert.Equal(promoted.Name, afterRestart.Name);
        var final = RowDigest.Compute(cluster.AcknowledgedRows);
        foreach (var member in cluster.Members)
        {
            Assert.Equal(final, (await cluster.ReadDigestAsync(member)).Digest);
        }
        Assert.Equal(failedBefore, cluster.FailedWrites);
    });
}
