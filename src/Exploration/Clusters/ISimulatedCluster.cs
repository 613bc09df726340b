using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Exploration.Clusters;

/// <summary>
/// A synchronous, deterministic cluster that generated sequences run on: the Akka.NET model in virtual time
/// (see <c>ModelClusterFactory</c>), or a small hand-written cluster in the suite's own tests.
/// </summary>
public interface ISimulatedCluster : IDisposable
{
    /// <summary>The configuration, updated by <c>patch-config</c> steps.</summary>
    ClusterConfig Config { get; }

    /// <summary>Applies one step; a refused step is a result, not an exception.</summary>
    StepResult Apply(Step step);

    /// <summary>Observes every member, the consumer and the client.</summary>
    Observation Observe();

    /// <summary>
    /// The history of <paramref name="timeline"/> as <paramref name="member"/>'s PostgreSQL has it (<c>TIMELINE_HISTORY</c>):
    /// where each ancestor timeline ended. The divergence and durability properties take their ground truth from it; null when no member on that timeline answers.
    /// </summary>
    IReadOnlyList<TimelineEnd>? TimelineHistory(string member, int timeline);

    /// <summary>The cluster's own event trace, for the evidence of a failing run (empty when it keeps none).</summary>
    string TraceText();
}

/// <summary>One line of a timeline history: <paramref name="Timeline"/> ended at <paramref name="SwitchPoint"/>.</summary>
public sealed record TimelineEnd(int Timeline, Lsn SwitchPoint);

/// <summary>Builds a fresh cluster per sequence (the model reuses one ActorSystem for all of them).</summary>
public interface ISimulatedClusterFactory
{
    /// <summary>A fresh cluster for <paramref name="config"/>, its internal randomness seeded by <paramref name="seed"/>.</summary>
    ISimulatedCluster Create(ClusterConfig config, int seed);
}
