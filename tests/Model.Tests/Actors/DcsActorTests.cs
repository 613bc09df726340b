using Akka.TestKit.Xunit2;
using PatroniModel.Model;
using PatroniModel.Model.Dcs;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Configuration;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Actors;

/// <summary>The DCS actor on its own, with Akka.TestKit: the leader key's compare-and-swap and TTL.</summary>
public sealed class DcsActorTests() : TestKit(ModelRuntime.ActorSystemConfig)
{
    [Fact]
    public void AcquireLease_WhileAnotherMemberHoldsIt_IsDenied_AndAfterTheTtlIsGranted()
    {
        // Given a DCS where pg2 took the leader key
        var world = new ModelWorld(ClusterConfig.Default, 1, ModelOptions.Default);
        var dcs = Sys.ActorOf(DcsActor.Props(world));
        dcs.Tell(new AcquireLease("pg2"), TestActor);
        Assert.True(ExpectMsg<LeaseAnswer>().Acquired);

        // When pg3 tries to take it before the ttl ran out
        world.Clock.Advance(ClusterConfig.Default.Ttl * 1000 - 1);
        dcs.Tell(new AcquireLease("pg3"), TestActor);

        // Then the compare-and-swap fails and the answer names the holder
        var denied = ExpectMsg<LeaseAnswer>();
        Assert.False(denied.Acquired);
        Assert.Equal("pg2", denied.View.Lease!.Holder);

        // And once the ttl elapsed without renewal, the key is gone and pg3 gets it
        world.Clock.Advance(1);
        dcs.Tell(new AcquireLease("pg3"), TestActor);
        Assert.True(ExpectMsg<LeaseAnswer>().Acquired);
        Assert.Equal(
            ["pg2 lease-acquired", "pg2 lease-expired", "pg3 lease-acquired"],
            world.Trace.Events.Select(e => $"{e.Member} {e.Kind}"));
    }

    [Fact]
    public void HaCycle_OfTheHolder_RenewsTheLease_AndRecordsItsPositionAsOptime()
    {
        // Given pg1 holding the leader key
        var world = new ModelWorld(ClusterConfig.Default, 1, ModelOptions.Default);
        var dcs = Sys.ActorOf(DcsActor.Props(world));
        dcs.Tell(new AcquireLease("pg1"), TestActor);
        ExpectMsg<LeaseAnswer>();

        // When its HA cycle comes 8 s later
        world.Clock.Advance(8_000);
        var lsn = new PatroniModel.Scenarios.Wal.Lsn(0x3000500);
        dcs.Tell(new HaCycle(new MemberStatus("pg1", IsLeader: true, Streaming: false, Timeline: 1, lsn)), TestActor);

        // Then the lease is renewed for another ttl and the optime is its position
        var view = ExpectMsg<DcsView>();
        Assert.True(view.Renewed);
        Assert.Equal(8_000 + ClusterConfig.Default.Ttl * 1000, view.Lease!.ExpiresAt);
        Assert.Equal(lsn, view.Optime);

        // And a replica's cycle renews nothing
        dcs.Tell(new HaCycle(new MemberStatus("pg2", IsLeader: false, Streaming: true, Timeline: 1, lsn)), TestActor);
        Assert.False(ExpectMsg<DcsView>().Renewed);
    }
}
