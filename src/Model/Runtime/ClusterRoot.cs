using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Clients;
using PatroniModel.Model.Dcs;
using PatroniModel.Model.Members;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.World;

namespace PatroniModel.Model.Runtime;

/// <summary>The references of one cluster's actors, filled in by <see cref="ClusterRoot"/>.</summary>
internal sealed class ClusterWiring
{
    public IActorRef Dcs { get; set; } = ActorRefs.Nobody;
    public IActorRef Client { get; set; } = ActorRefs.Nobody;
    public IActorRef Consumer { get; set; } = ActorRefs.Nobody;
    public IActorRef Sink { get; set; } = ActorRefs.Nobody;
    public ImmutableDictionary<string, IActorRef> Members { get; set; } = ImmutableDictionary<string, IActorRef>.Empty;
}

/// <summary>The driver's mailbox: what actors answered to the driver's requests.</summary>
internal sealed class ReplyBox
{
    private readonly List<object> _replies = [];

    public void Add(object reply) => _replies.Add(reply);

    public void Clear() => _replies.Clear();

    public T? Take<T>() where T : class
    {
        for (var i = 0; i < _replies.Count; i++)
        {
            if (_replies[i] is T found)
            {
                _replies.RemoveAt(i);
                return found;
            }
        }
        return null;
    }
}

/// <summary>Receives the answers meant for the (non-actor) driver.</summary>
internal sealed class ReplySink : ReceiveActor
{
    public ReplySink(ReplyBox box) => ReceiveAny(box.Add);
}

/// <summary>
/// The root of one cluster's actor tree: creates the DCS, the members, the client and the consumer; stops them all when
/// stopped. An actor that throws is stopped and its exception handed to the driver (a model bug must not be hidden by a restart).
/// </summary>
internal sealed class ClusterRoot : ReceiveActor
{
    private readonly ModelWorld _world;

    public ClusterRoot(ModelWorld world, ClusterWiring wiring, ReplyBox box)
    {
        _world = world;
        var names = world.InitialConfig.MemberNames.ToImmutableArray();
        wiring.Dcs = Context.ActorOf(DcsActor.Props(world), "dcs");
        var members = ImmutableDictionary.CreateBuilder<string, IActorRef>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            members[name] = Context.ActorOf(MemberActor.Props(name, world), name);
        }
        wiring.Members = members.ToImmutable();
        wiring.Client = Context.ActorOf(ClientActor.Props(world, names), "client");
        wiring.Consumer = Context.ActorOf(ConsumerActor.Props(world), "consumer");
        wiring.Sink = Context.ActorOf(ActorFactory<ReplySink>.Props(() => new ReplySink(box)), "driver");
        foreach (var member in wiring.Members.Values)
        {
            member.Tell(new WireMember(wiring.Dcs, wiring.Client, wiring.Members));
        }
        wiring.Client.Tell(new WireClient(wiring.Members));
        ReceiveAny(_ => { });
    }

    public static Props Props(ModelWorld world, ClusterWiring wiring, ReplyBox box) =>
        ActorFactory<ClusterRoot>.Props(() => new ClusterRoot(world, wiring, box));

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        _world.Failure ??= e;
        return Directive.Stop;
    });
}
