using System.Globalization;
using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Invariants;

/// <summary>The model's own invariants, checked on hand-built sequences and on many seeded pseudo-random ones.</summary>
public sealed class InvariantTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    public static TheoryData<int> Sizes => [3, 5, 7];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void NeverTwoMembersHoldTheLease(int members)
    {
        for (var seed = 0; seed < 60; seed++)
        {
            // Given a pseudo-random fault sequence
            using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { Members = members }, seed);

            // When it runs
            RandomSequences.Run(cluster, seed, 40);

            // Then every lease-acquired happened while nobody else held the lease
            string? holder = null;
            foreach (var e in cluster.Trace)
            {
                if (e.Kind == ModelEventKinds.LeaseAcquired)
                {
                    Assert.True(holder is null || holder == e.Member, $"seed {seed}: {e} while {holder} holds the lease{cluster.Why()}");
                    holder = e.Member;
                }
                else if (e.Kind == ModelEventKinds.LeaseExpired)
                {
                    Assert.Equal(holder, e.Member);
                    holder = null;
                }
            }
        }
    }

    [Fact]
    public void APromotionStartsANewTimeline_WhoseHistoryRecordsTheForkLsn()
    {
        var promotions = 0;
        for (var seed = 0; seed < 60; seed++)
        {
            using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default, seed);
            var seen = 0;
            var timelines = new HashSet<int> { 1 };
            RandomSequences.Run(cluster, seed, 40, (step, _) =>
            {
                // When a step causes promotions
                var events = cluster.Trace;
                for (; seen < events.Count; seen++)
                {
                    var e = events[seen];
                    if (e.Kind != ModelEventKinds.Promoted)
                    {
                        continue;
                    }
                    promotions++;

                    // Then each starts a timeline never used before, recorded in the DCS history with its fork LSN
                    var parts = e.Detail.Split(' ');
                    var timeline = int.Parse(parts[0][2..], CultureInfo.InvariantCulture);
                    var fork = Lsn.Parse(parts[1]["fork=".Length..]);
                    Assert.True(timelines.Add(timeline), $"seed {seed}: timeline {timeline} used twice{cluster.Why()}");
                    Assert.Contains(cluster.Dcs.History, h => h.Timeline == timeline && h.Fork == fork && h.Leader == e.Member);

                    // And the promoted member's own timeline history ends its previous timeline at the fork
                    var member = cluster.InspectMembers().Single(m => m.Name == e.Member);
                    if (member.Timeline == timeline)
                    {
                        Assert.Equal(fork, member.History[^1].End);
                        Assert.True(member.EndLsn > fork);
                    }
                }
            });
        }
        Assert.True(promotions > 30, $"only {promotions} promotions: the sequences do not exercise failover");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void AReplicasReplayLsnNeverExceedsThePrimarysFlushLsnOnItsTimeline(int members)
    {
        for (var seed = 100; seed < 140; seed++)
        {
            using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { Members = members }, seed,
                new ModelOptions { MaxReplicationDelayMilliseconds = seed % 2 == 0 ? 0 : 300 });
            RandomSequences.Run(cluster, seed, 40, (step, _) =>
            {
                // Then after every step, every replica streaming from the primary is at or behind its flush LSN
                var all = cluster.InspectMembers();
                foreach (var primary in all.Where(m => m.Running && m.IsPrimary))
                {
                    foreach (var replica in all.Where(m => m.Running && !m.IsPrimary && m.Streaming && m.Upstream == primary.Name && m.Timeline == primary.Timeline))
                    {
                        Assert.True(replica.EndLsn <= primary.EndLsn, $"seed {seed} after {step}: {replica.Name} at {replica.EndLsn} > {primary.Name} at {primary.EndLsn}");
                    }
                }
            });
        }
    }

    [Theory]
    [InlineData(SynchronousMode.On)]
    [InlineData(SynchronousMode.Strict)]
    public void InSynchronousMode_AnAcknowledgedWriteIsOnTheSyncStandby(SynchronousMode mode)
    {
        // Given a cluster in synchronous mode
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { SynchronousMode = mode }, 11);
        var standby = cluster.InspectMembers().Single(m => m.Name == "pg1").SyncStandby;
        Assert.NotNull(standby);
        Assert.Equal(standby, cluster.Dcs.Sync.Standby);

        // When the client writes
        cluster.Ok(new Write(10));

        // Then every acknowledged row is on the sync standby
        var rows = cluster.InspectMembers().Single(m => m.Name == standby).Rows;
        Assert.All(cluster.Acknowledged, id => Assert.Contains(id, rows));

        // And when the leader is killed right away, the sync standby is promoted with every acknowledged row
        cluster.Ok(new Kill("pg1"));
        cluster.Ok(new Settle());
        var observation = cluster.Observe();
        Assert.Equal(standby, observation.Leader);
        Assert.Empty(observation.LostAcknowledged);
    }

    [Fact]
    public void InStrictSynchronousMode_EveryRowAcknowledgedInAStepIsOnTwoMembers()
    {
        for (var seed = 200; seed < 240; seed++)
        {
            using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { SynchronousMode = SynchronousMode.Strict }, seed);
            var mark = 0;
            RandomSequences.Run(cluster, seed, 40, (step, _) =>
            {
                var from = mark;
                mark = cluster.Trace.Count;
                if (step is not Write || cluster.Trace.Skip(from).Any(e => e.Kind == ModelEventKinds.Rewound))
                {
                    return;
                }
                var all = cluster.InspectMembers();
                foreach (var acked in cluster.Trace.Skip(from).Where(e => e.Kind == ModelEventKinds.WriteAcked))
                {
                    var id = long.Parse(acked.Detail.Split(' ')[0]["row=".Length..], CultureInfo.InvariantCulture);
                    Assert.True(all.Count(m => m.Rows.Contains(id)) >= 2, $"seed {seed}: {acked} is on fewer than two members{cluster.Why()}");
                }
            });
        }
    }

    [Theory]
    [InlineData(SynchronousMode.Off)]
    [InlineData(SynchronousMode.On)]
    public void AFrozenLeaderThatThawsAfterItsLeaseExpired_Demotes(SynchronousMode mode)
    {
        // Given pg1 frozen until its lease expired and a replica was promoted
        using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { SynchronousMode = mode }, 21);
        cluster.Ok(new Write(3));
        cluster.Ok(new Freeze("pg1"));
        cluster.Ok(new Wait(cluster.Config.Ttl + 2 * cluster.Config.LoopWait));
        var leader = cluster.Observe().Leader;
        Assert.NotEqual("pg1", leader);
        Assert.NotNull(leader);

        // When it thaws while the client keeps writing to it
        var thawedAt = cluster.NowMilliseconds;
        cluster.Ok(new Thaw("pg1"));
        cluster.Apply(new Write(6));

        // Then it demoted itself within about one HA loop
        var demoted = cluster.Trace.Single(e => e.Member == "pg1" && e.Kind == ModelEventKinds.Demoted);
        Assert.InRange(demoted.AtMilliseconds - thawedAt, 0, cluster.Config.LoopWait * 1000);
        Assert.False(cluster.InspectMembers().Single(m => m.Name == "pg1").IsPrimary);

        // And what it acknowledged in its window is what pg_rewind discards (async); in synchronous mode it acknowledged nothing
        var ackedByOldLeader = cluster.Trace.Where(e => e.Kind == ModelEventKinds.WriteAcked && e.AtMilliseconds >= thawedAt && e.Detail.EndsWith(" pg1", StringComparison.Ordinal)).ToList();
        cluster.Ok(new Settle());
        var observation = cluster.Observe();
        if (mode == SynchronousMode.Off)
        {
            Assert.NotEmpty(ackedByOldLeader);
            Assert.Equal(ackedByOldLeader.Count, observation.LostAcknowledged.Length);
            Assert.Equal(ackedByOldLeader.Count, cluster.Trace.Count(e => e.Kind == ModelEventKinds.WriteLost));
        }
        else
        {
            Assert.Empty(ackedByOldLeader);
            Assert.Empty(observation.LostAcknowledged);
        }
        Assert.True(observation.Member("pg1")!.Streaming, cluster.Why());
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void AKilledThenStartedExLeader_RejoinsAsAReplicaOnTheNewTimeline(int members)
    {
        for (var seed = 0; seed < 10; seed++)
        {
            // Given the leader killed after writes and a new leader
            using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { Members = members }, seed);
            cluster.Ok(new Write(1 + seed));
            cluster.Ok(new Kill("pg1"));
            cluster.Ok(new Settle());
            var leader = cluster.Observe().LeaderMember!;

            // When it is started again
            cluster.Ok(new Start("pg1"));
            cluster.Ok(new Settle());

            // Then it streams from the new leader on the new timeline with the same rows
            var pg1 = cluster.Observe().Member("pg1")!;
            Assert.Equal(MemberRole.Replica, pg1.Role);
            Assert.True(pg1.Streaming);
            Assert.Equal(leader.Timeline, pg1.Timeline);
            Assert.Equal(cluster.Observe().LeaderMember!.Digest, pg1.Digest);
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void AfterSettle_ExactlyOneLeaderAndEveryRunningMemberStreamsFromIt(int members)
    {
        var settles = 0;
        for (var seed = 300; seed < 360; seed++)
        {
            using var cluster = fixture.Runtime.CreateCluster(ClusterConfig.Default with { Members = members }, seed);
            var repairing = false;
            void Check(Step step, StepResult result)
            {
                if (step is not Settle)
                {
                    return;
                }
                if (result.Status != StepStatus.Ok)
                {
                    Assert.False(repairing, $"seed {seed}: the repaired cluster did not settle: {result}{cluster.Why()}");
                    return;
                }
                settles++;
                var observation = cluster.Observe();
                Assert.Single(observation.Members, m => m.Role == MemberRole.Leader && m.State == MemberState.Running);
                Assert.Equal(observation.Leader, observation.Members.Single(m => m.Role == MemberRole.Leader && m.State == MemberState.Running).Name);
                foreach (var m in observation.Members.Where(m => m.State == MemberState.Running && m.Name != observation.Leader))
                {
                    Assert.True(m.Streaming && m.Timeline == observation.LeaderMember!.Timeline, $"seed {seed}: {m}{cluster.Why()}");
                }
            }

            RandomSequences.Run(cluster, seed, 30, Check);

            // And at the end everything is repaired, so the cluster must settle
            repairing = true;
            foreach (var name in cluster.Config.MemberNames)
            {
                foreach (var repair in new Step[] { new Thaw(name), new Heal(name), new Start(name) })
                {
                    cluster.Apply(repair);
                }
            }
            Check(new Settle(), cluster.Apply(new Settle()));
        }
        Assert.True(settles > 60);
    }
}
