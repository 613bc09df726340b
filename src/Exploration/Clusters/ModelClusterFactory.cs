using PatroniModel.Model;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Exploration.Clusters;

/// <summary>
/// Fresh model clusters from one <see cref="ModelRuntime"/> (one ActorSystem reused for every sequence), with the reconciler
/// and planted bugs chosen by <paramref name="options"/> (a wrong reconciler goes in through <see cref="ModelOptions.ReconcilerFactory"/>).
/// </summary>
public sealed class ModelClusterFactory(ModelRuntime runtime, ModelOptions? options = null) : ISimulatedClusterFactory
{
    /// <summary>
    /// A factory with a model runtime of its own (one ActorSystem, disposed with the factory): one per exploration worker,
    /// so workers on different threads share nothing.
    /// </summary>
    public static OwningModelClusterFactory WithOwnRuntime(ModelOptions? options = null) => new(options);

    public ISimulatedCluster Create(ClusterConfig config, int seed) => new ModelSimulatedCluster(runtime.CreateCluster(config, seed, options));

    private sealed class ModelSimulatedCluster(ModelCluster cluster) : ISimulatedCluster
    {
        public ClusterConfig Config => cluster.Config;

        public StepResult Apply(Step step) => cluster.Apply(step);

        public Observation Observe() => cluster.Observe();

        public string TraceText() => cluster.TraceText();

        /// <summary>Asks the named member's PostgreSQL, then any member on that timeline (the history file is the same on each).</summary>
        public IReadOnlyList<TimelineEnd>? TimelineHistory(string member, int timeline)
        {
            foreach (var name in cluster.Config.MemberNames.OrderBy(n => n == member ? 0 : 1))
            {
                ILeaderSession session;
                try
                {
                    session = cluster.Endpoint.ConnectAsync(new PatroniMember(name, "leader", "running", name, 5432, timeline)).GetAwaiter().GetResult();
                }
                catch (PatroniUnreachableException)
                {
                    continue; // stopped, frozen or partitioned: ask the next member
                }
                try
                {
                    if (session.IdentifySystemAsync().GetAwaiter().GetResult().Timeline != timeline)
                    {
                        continue;
                    }
                    var history = session.TimelineHistoryAsync(timeline).GetAwaiter().GetResult();
                    return [.. history.Select(h => new TimelineEnd(h.Timeline, new Lsn((ulong)h.SwitchPoint)))];
                }
                finally
                {
                    session.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
            }
            return null;
        }

        public void Dispose() => cluster.Dispose();
    }
}

/// <summary>A <see cref="ModelClusterFactory"/> over a <see cref="ModelRuntime"/> it owns and disposes.</summary>
public sealed class OwningModelClusterFactory : ISimulatedClusterFactory, IDisposable
{
    private readonly ModelRuntime _runtime = new();
    private readonly ModelClusterFactory _factory;

    internal OwningModelClusterFactory(ModelOptions? options) => _factory = new ModelClusterFactory(_runtime, options);

    public ISimulatedCluster Create(ClusterConfig config, int seed) => _factory.Create(config, seed);

    public void Dispose() => _runtime.Dispose();
}
