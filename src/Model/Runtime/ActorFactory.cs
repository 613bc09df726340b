using Akka.Actor;

namespace PatroniModel.Model.Runtime;

/// <summary>Creates actors from a delegate: no reflection or expression compilation per cluster, which keeps a fresh actor tree cheap.</summary>
internal sealed class ActorFactory<TActor>(Func<TActor> create) : IIndirectActorProducer
    where TActor : ActorBase
{
    public Type ActorType => typeof(TActor);

    public ActorBase Produce() => create();

    public void Release(ActorBase actor)
    {
    }

    public static Props Props(Func<TActor> create) =>
        Akka.Actor.Props.CreateBy(new ActorFactory<TActor>(create)).WithDispatcher(ModelRuntime.DispatcherId);
}
