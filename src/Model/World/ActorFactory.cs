using Akka.Actor;

namespace PatroniModel.Model.World;

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
        Akka.Actor.Props.CreateBy(new ActorFactory<TActor>(create)).WithDispatcher(ModelDispatcher.Id);
}

/// <summary>The shared calling-thread dispatcher every model actor runs on (configured by <c>ModelRuntime</c>).</summary>
internal static class ModelDispatcher
{
    public const string Id = "patroni-model.calling-thread-dispatcher";
}
