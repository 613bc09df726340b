using System.Collections.Immutable;
using PatroniModel.Model.Members;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Members;

/// <summary>Patroni's is_healthiest_node as a plain policy, without actors.</summary>
public sealed class LeaderRaceTests
{
    private static readonly Lsn Start = new(0x3000060);

    private static DcsView View(Lsn optime, int maxTimeline = 1, FailoverKey? failover = null, SyncKey? sync = null) => new(
        At: 0,
        Config: ClusterConfig.Default,
        Lease: null,
        Optime: optime,
        Members: [],
        Sync: sync ?? SyncKey.Empty,
        Failover: failover,
        History: maxTimeline > 1 ? [new TimelineHistoryEntry(maxTimeline, Start, "pg2", 0)] : [],
        LastLeader: "pg1",
        Renewed: false);

    private static LeaderRace Race(
        IReadOnlyDictionary<string, RestStatus> members, ClusterConfig? config = null, string? preferred = null, bool ignoreLag = false, params string[] unreachable) =>
        new(config ?? ClusterConfig.Default, preferred, ignoreLag, name => !unreachable.Contains(name),
            members.Select(kv => new KeyValuePair<string, Func<RestStatus>>(kv.Key, () => kv.Value)).ToList());

    private static RaceCandidate Replica(string name, Lsn end) => new(name, IsPrimary: false, Timeline: 1, end);

    [Fact]
    public void Eligible_WhenAnotherReplicaIsAhead_RefusesAndNamesIt()
    {
        // Given pg2 at the start of WAL and pg3 ahead of it, the old primary pg1 gone
        var race = Race(new Dictionary<string, RestStatus>
        {
            ["pg2"] = new(false, 1, Start),
            ["pg3"] = new(false, 1, Start.Plus(0xA8)),
        }, unreachable: "pg1");

        // When pg2 and pg3 ask whether they may race
        var pg2 = race.Eligible(Replica("pg2", Start), View(Start.Plus(0xA8)), out var why2);
        var pg3 = race.Eligible(Replica("pg3", Start.Plus(0xA8)), View(Start.Plus(0xA8)), out _);

        // Then only the one furthest ahead races
        Assert.False(pg2);
        Assert.Equal($"pg3 is ahead ({Start.Plus(0xA8)})", why2);
        Assert.True(pg3);
    }

    [Fact]
    public void Eligible_WhenTheReplicaLagsBeyondMaximumLag_Refuses_UnlessThePlantedBugIgnoresIt()
    {
        // Given the last leader's optime 2 MiB past the replica's position
        var optime = Start.Plus(2 * 1024 * 1024);
        var members = new Dictionary<string, RestStatus> { ["pg2"] = new(false, 1, Start) };

        // When the replica asks, with the real rule and with the planted bug
        var honest = Race(members).Eligible(Replica("pg2", Start), View(optime), out var why);
        var planted = Race(members, ignoreLag: true).Eligible(Replica("pg2", Start), View(optime), out _);

        // Then maximum_lag_on_failover keeps it out, and only the planted bug lets it race
        Assert.False(honest);
        Assert.Contains("maximum_lag_on_failover", why);
        Assert.True(planted);
    }

    [Fact]
    public void Eligible_WhenAPrimaryIsStillReachable_RefusesEveryReplica()
    {
        // Given pg1 still answering as primary
        var race = Race(new Dictionary<string, RestStatus>
        {
            ["pg1"] = new(true, 1, Start),
            ["pg2"] = new(false, 1, Start),
        });

        // When pg2 asks
        var eligible = race.Eligible(Replica("pg2", Start), View(Start), out var why);

        // Then it does not race
        Assert.False(eligible);
        Assert.Equal("the primary pg1 is still alive", why);
    }

    [Fact]
    public void Eligible_ForAThawedPrimaryBehindTheClustersTimeline_Refuses()
    {
        // Given a primary on timeline 1 while the DCS history already has timeline 2
        var race = Race(new Dictionary<string, RestStatus>());

        // When it asks whether to take the free lease back
        var eligible = race.Eligible(new RaceCandidate("pg1", IsPrimary: true, Timeline: 1, Start), View(Start, maxTimeline: 2), out var why);

        // Then it may not undo the promotion
        Assert.False(eligible);
        Assert.Equal("its timeline 1 is behind the cluster's timeline 2", why);
    }

    [Fact]
    public void Eligible_WithAFailoverKeyNamingACandidate_LetsOnlyTheCandidateRace()
    {
        // Given a /failover key for pg3
        var race = Race(new Dictionary<string, RestStatus> { ["pg2"] = new(false, 1, Start), ["pg3"] = new(false, 1, Start) });
        var view = View(Start, failover: new FailoverKey(null, "pg3"));

        // When pg2 and pg3 ask
        var pg2 = race.Eligible(Replica("pg2", Start), view, out var why);
        var pg3 = race.Eligible(Replica("pg3", Start), view, out _);

        // Then only pg3 races
        Assert.False(pg2);
        Assert.Equal("the failover candidate is pg3", why);
        Assert.True(pg3);
    }

    [Fact]
    public void Eligible_InSynchronousModeWithAnActiveSyncKey_RefusesAReplicaThatIsNotTheStandby()
    {
        // Given synchronous mode with /sync naming pg1 and pg2
        var config = ClusterConfig.Default with { SynchronousMode = SynchronousMode.On };
        var race = Race(new Dictionary<string, RestStatus> { ["pg2"] = new(false, 1, Start), ["pg3"] = new(false, 1, Start) }, config);
        var view = View(Start, sync: new SyncKey("pg1", "pg2"));

        // When pg3 and pg2 ask
        var pg3 = race.Eligible(Replica("pg3", Start), view, out var why);
        var pg2 = race.Eligible(Replica("pg2", Start), view, out _);

        // Then only the synchronous standby races
        Assert.False(pg3);
        Assert.Equal("synchronous mode: it is neither the last leader nor the synchronous standby", why);
        Assert.True(pg2);
    }

    [Fact]
    public void Eligible_WithAReachablePreferredCandidate_LetsOnlyItRace()
    {
        // Given pg3 preferred (the conformance runner follows reality's choice) and pg2 ahead of it
        var race = Race(new Dictionary<string, RestStatus> { ["pg2"] = new(false, 1, Start.Plus(0xA8)), ["pg3"] = new(false, 1, Start) }, preferred: "pg3");

        // When both ask
        var pg2 = race.Eligible(Replica("pg2", Start.Plus(0xA8)), View(Start), out var why);
        var pg3 = race.Eligible(Replica("pg3", Start), View(Start), out _);

        // Then the preferred one races although it is behind
        Assert.False(pg2);
        Assert.Equal("pg3 is the preferred candidate", why);
        Assert.True(pg3);
    }
}
