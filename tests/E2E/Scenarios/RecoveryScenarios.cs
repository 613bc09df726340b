using System.Diagnostics;
using System.Globalization;
using PatroniModel.RealCluster.Clusters;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.E2E.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Scenarios;

/// <summary>Recovery: killed, frozen and partitioned members come back as healthy replicas.</summary>
[Collection(RealClusterCollection.Name)]
public sealed class RecoveryScenarios(SharedClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public Task KilledLeaderRejoinsAsReplica_StartedAgainItStreamsFromTheNewLeader() => fixture.RunAsync(output, "KilledLeaderRejoinsAsReplica", async cluster =>
    {
        // Given a settled cluster
        await cluster.MustAsync(new Write(10));
        var leader = await cluster.SettleAsync();

        // When the leader is SIGKILLed, a replica takes over, and the killed node is started again
        await cluster.MustAsync(new Kill(leader.Name));
        var promoted = await cluster.WaitForNewLeaderAsync(leader);
        await cluster.MustAsync(new Write(10));
        var watch = Stopwatch.StartNew();
        await cluster.MustAsync(new Start(leader.Name));
        await cluster.SettleAsync();
        output.WriteLine($"{leader.Name} streaming again {watch.Elapsed.TotalSeconds:F1}s after start");

        // Then it is a healthy replica of the new leader: three members, one leader, same timeline, same rows
        var observation = await cluster.ObserveAsync();
        output.WriteLine(observation.ToString());
        Assert.Equal(promoted.Name, observation.Leader);
        Assert.Equal(3, observation.Members.Length);
        Assert.Single(observation.Members, m => m.Role == MemberRole.Leader);
        var rejoined = observation.Member(leader.Name)!;
        Assert.Equal(MemberRole.Replica, rejoined.Role);
        Assert.True(rejoined.Streaming, $"{leader.Name} is not streaming: {rejoined}");
        Assert.False(rejoined.Writable);
        Assert.Equal(observation.LeaderMember!.Timeline, rejoined.Timeline);
        Assert.Equal(observation.LeaderMember.Digest, rejoined.Digest);
        Assert.Empty(observation.LostAcknowledged);
    });

    [Fact]
    public Task ReplicaLossKeepsPrimary_NoFailoverWritesGoOnSlotKept() => fixture.RunAsync(output, "ReplicaLossKeepsPrimary", async cluster =>
    {
        // Given a consumed slot on the leader
        var leader = await cluster.SettleAsync();
        var replica = cluster.Replica(leader);
        await cluster.MustAsync(new CreateSlot("replica_loss"));
        await cluster.MustAsync(new Write(10));
        await cluster.MustAsync(new Consume("replica_loss"));
        var confirmed = cluster.LastConfirmed("replica_loss");
        var timeline = await cluster.ReadTimelineAsync(leader);

        // When a replica is SIGKILLed and a whole ttl passes
        await cluster.MustAsync(new Kill(replica.Name));
        var writes = await cluster.ApplyAsync(new Write(20));
        await cluster.MustAsync(new Wait(cluster.Config.Ttl));

        // Then no failover happened: same leader, same timeline, every write acknowledged, the slot found where it was
        Assert.True(writes.Status == StepStatus.Ok, $"writes failed while only a replica was down: {writes}");
        Assert.Equal(leader.Name, (await cluster.WaitForLeaderAsync()).Name);
        Assert.Equal(timeline, await cluster.ReadTimelineAsync(leader));
        ClusterSteps.AssertFoundWithoutAlarm(await cluster.ReconcileAsync("replica_loss"), confirmed);

        // And the replica recovers: started again, it streams and holds the leader's rows
        await cluster.MustAsync(new Start(replica.Name));
        await cluster.SettleAsync();
        var observation = await cluster.ObserveAsync();
        Assert.True(observation.Member(replica.Name)!.Streaming, observation.ToString());
        Assert.Equal(observation.LeaderMember!.Digest, observation.Member(replica.Name)!.Digest);
        Assert.Empty(observation.LostAcknowledged);
    });

    [Fact]
    public Task FrozenLeaderFailoverAndRejoin_ThawedExLeaderDemotesAndStreams() => fixture.RunAsync(output, "FrozenLeaderFailoverAndRejoin", async cluster =>
    {
        // Given a settled cluster
        await cluster.MustAsync(new Write(10));
        var leader = await cluster.SettleAsync();

        // When the leader is frozen (docker pause)
        var watch = Stopwatch.StartNew();
        await cluster.MustAsync(new Freeze(leader.Name));
        var promoted = await cluster.WaitForNewLeaderAsync(leader);
        output.WriteLine($"{promoted.Name} writable {watch.Elapsed.TotalSeconds:F1}s after freezing {leader.Name}");
        await cluster.MustAsync(new Write(10));

        // And thawed
        watch.Restart();
        await cluster.MustAsync(new Thaw(leader.Name));
        await cluster.SettleAsync();
        output.WriteLine($"{leader.Name} streaming {watch.Elapsed.TotalSeconds:F1}s after thaw");

        // Then the ex-leader demoted itself and rejoined; the promoted leader kept every acknowledged write
        var observation = await cluster.ObserveAsync();
        output.WriteLine(observation.ToString());
        Assert.Equal(promoted.Name, observation.Leader);
        var exLeader = observation.Member(leader.Name)!;
        Assert.Equal(MemberRole.Replica, exLeader.Role);
        Assert.True(exLeader.Streaming, exLeader.ToString());
        Assert.False(exLeader.Writable);
        Assert.Equal(observation.LeaderMember!.Digest, exLeader.Digest);
        Assert.Empty(observation.LostAcknowledged);
    });

    [Fact]
    public Task LeaderPartitioned_OldLeaderDemotesWithinTtlAndItsLateWritesDoNotSurvive() => fixture.RunAsync(output, "LeaderPartitioned", async cluster =>
    {
        // Given acknowledged writes, replicated everywhere
        await cluster.MustAsync(new Write(30));
        var leader = await cluster.SettleAsync();
        var acknowledgedBefore = cluster.AcknowledgedRows;
        var ttl = cluster.Config.Ttl;

        // When the leader is cut off from the network while a local client keeps writing to it (docker exec, unix socket)
        var partitionedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await cluster.MustAsync(new Partition(leader.Name));
        var isolatedWrites = Task.Run(() => cluster.ExecAsync(leader, IsolatedWriterScript(cluster.SocketDirectory, firstId: 1_000_000_000, seconds: ttl + 6)));
        var promoted = await cluster.WaitForNewLeaderAsync(leader);
        var promotedSeenAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await cluster.MustAsync(new Write(10));
        var isolated = ParseIsolatedWrites((await isolatedWrites).Stdout);
        output.WriteLine($"{promoted.Name} seen writable {promotedSeenAt - partitionedAt} ms after the partition; the isolated {leader.Name} acknowledged "
                         + $"{isolated.Acked.Count} writes, the last {(isolated.Acked.Count == 0 ? "-" : (isolated.Acked.Max(a => a.AtMs) - partitionedAt).ToString(CultureInfo.InvariantCulture))} ms after the partition, "
                         + $"and refused {isolated.Refused}");

        // Then the old leader stopped acknowledging writes within ttl, before the replica was promoted
        Assert.True(isolated.Refused > 0, "the isolated old leader never refused a write");
        if (isolated.Acked.Count > 0)
        {
            var lastAck = isolated.Acked.Max(a => a.AtMs);
            Assert.True(lastAck - partitionedAt < ttl * 1000, $"the old leader acknowledged a write {lastAck - partitionedAt} ms after the partition (ttl {ttl} s)");
            Assert.True(lastAck < promotedSeenAt, "the old leader acknowledged a write after the new leader was writable");
        }

        // And after healing it rejoins as a replica; every write acknowledged before the partition is on the new leader,
        // and none of the isolated leader's writes exists anywhere
        await cluster.MustAsync(new Heal(leader.Name));
        await cluster.SettleAsync();
        var observation = await cluster.ObserveAsync();
        output.WriteLine(observation.ToString());
        Assert.Equal(promoted.Name, observation.Leader);
        Assert.Equal(MemberRole.Replica, observation.Member(leader.Name)!.Role);
        Assert.True(observation.Member(leader.Name)!.Streaming);
        var onNewLeader = await cluster.ReadRowIdsAsync(promoted);
        Assert.All(acknowledgedBefore, id => Assert.Contains(id, onNewLeader));
        Assert.Empty(observation.LostAcknowledged);
        var onRejoined = await cluster.ReadRowIdsAsync(leader);
        Assert.All(isolated.Acked, a => Assert.DoesNotContain(a.Id, onNewLeader));
        Assert.All(isolated.Acked, a => Assert.DoesNotContain(a.Id, onRejoined));
        Assert.Equal(observation.LeaderMember!.Digest, observation.Member(leader.Name)!.Digest);
    });

    /// <summary>A shell loop inserting one row at a time through the member's unix socket, printing <c>ack|fail id epoch-ms</c>.</summary>
    private static string IsolatedWriterScript(string socketDirectory, long firstId, int seconds) => $$"""
        end=$(( $(date +%s) + {{seconds}} )); i={{firstId}}
        while [ "$(date +%s)" -lt "$end" ]; do
          if timeout 1 psql -h {{socketDirectory}} -U postgres -d postgres -qAtc "INSERT INTO pm_rows (id, payload) VALUES ($i, 'row-$i')" >/dev/null 2>&1; then
            echo "ack $i $(date +%s%3N)"
          else
            echo "fail $i $(date +%s%3N)"
          fi
          i=$((i + 1)); sleep 0.1
        done
        """;

    private static (List<(long Id, long AtMs)> Acked, int Refused) ParseIsolatedWrites(string stdout)
    {
        var acked = new List<(long, long)>();
        var refused = 0;
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts is ["ack", var id, var at])
            {
                acked.Add((long.Parse(id, CultureInfo.InvariantCulture), long.Parse(at, CultureInfo.InvariantCulture)));
            }
            else if (parts is ["fail", _, _])
            {
                refused++;
            }
        }
        return (acked, refused);
    }
}
