using Akka.Actor;
using Akka.Configuration;
using PatroniModel.Model.Runtime;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Configuration;

namespace PatroniModel.Model;

/// <summary>
/// One ActorSystem for many model clusters: each <see cref="CreateCluster"/> builds a fresh actor tree on it.
/// The model's actors run on a calling-thread dispatcher (Akka.TestKit's), so a step runs on the caller's thread,
/// synchronously and deterministically; time is virtual (<see cref="Time.VirtualClock"/>). Clusters may be used from
/// different threads at once, each cluster from one thread at a time.
/// </summary>
public sealed class ModelRuntime : IDisposable
{
    /// <summary>The dispatcher every model actor runs on.</summary>
    public const string DispatcherId = ModelDispatcher.Id;

    /// <summary>The ActorSystem configuration the model needs (its dispatcher, quiet logging); TestKit-based tests start their system with it.</summary>
    public static Config ActorSystemConfig => SystemConfig;

    private static readonly Config SystemConfig = ConfigurationFactory.ParseString("""
        akka {
          loglevel = OFF
          stdout-loglevel = OFF
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          log-config-on-start = off
          actor.debug.unhandled = off
        }
        patroni-model.calling-thread-dispatcher {
          type = "PatroniModel.Model.Runtime.SharedCallingThreadDispatcherConfigurator, PatroniModel.Model"
          throughput = 2147483647
        }
        """);

    private readonly object _gate = new();
    private readonly IActorRef _host;

    public ModelRuntime()
    {
        System = ActorSystem.Create("patroni-model", SystemConfig);
        _host = System.ActorOf(ActorFactory<ClusterHost>.Props(() => new ClusterHost()), "clusters");
        // A top-level actor starts asynchronously; once it answers, its children start synchronously on the calling thread.
        if (!_host.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(30)).Wait(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException("the model's actor host did not start within 30 s");
        }
    }

    internal ActorSystem System { get; }

    /// <summary>Creates a cluster's root actor under the host, synchronously on this thread.</summary>
    internal IActorRef CreateRoot(Props props)
    {
        lock (_gate)
        {
            var request = new CreateTree(props);
            _host.Tell(request);
            return request.Root ?? throw new InvalidOperationException("the model's actor host did not create the cluster synchronously");
        }
    }

    /// <summary>Stops a cluster's root actor (and its tree) synchronously on this thread.</summary>
    internal void StopRoot(IActorRef root)
    {
        lock (_gate)
        {
            System.Stop(root);
        }
    }

    /// <summary>Builds a cluster of <paramref name="config"/>: pg1 bootstrapped as leader, the others streaming from it, at virtual time 0.</summary>
    public ModelCluster CreateCluster(ClusterConfig config, int seed, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var problems = config.Problems().ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"invalid cluster configuration: {string.Join("; ", problems)}", nameof(config));
        }
        return new ModelCluster(this, config, seed, options ?? ModelOptions.Default);
    }

    public void Dispose() => System.Dispose();

    private sealed class CreateTree(Props props)
    {
        public Props Props { get; } = props;
        public IActorRef? Root { get; set; }
    }

    /// <summary>The parent of every cluster's root actor.</summary>
    private sealed class ClusterHost : ReceiveActor
    {
        public ClusterHost()
        {
            Receive<CreateTree>(m => m.Root = Context.ActorOf(m.Props));
            ReceiveAny(_ => { });
        }
    }
}
