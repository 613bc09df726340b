using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Conformance.Running;

/// <summary>
/// Wraps a cluster whose leader race is an open choice (the model) as an <see cref="ILeaderChoice"/>: the conformance
/// runner's <see cref="ILeaderChoice.PreferLeader"/> goes to <paramref name="prefer"/> (for the model:
/// <c>ModelCluster.PreferredCandidate</c>, which lets only that member race for a free lease while it is reachable and
/// passes Patroni's own checks). A choice the wrapped cluster does not allow is not forced: it elects nobody or its own
/// choice, and the comparison reports the leader difference. The wrapped cluster does not enumerate its allowed winners,
/// so <see cref="LastAllowedLeaders"/> is empty and a leader difference is reported without the set.
/// </summary>
public sealed class LeaderFollowingCluster(ICluster inner, Action<string?> prefer, Action<string?>? preferSync = null) : ICluster, ILeaderChoice
{
    /// <summary>The wrapped cluster.</summary>
    public ICluster Inner { get; } = inner;

    public ClusterConfig Config => Inner.Config;

    public IReadOnlyList<string> LastAllowedLeaders => [];

    public void PreferLeader(string? member) => prefer(member);

    public void PreferSyncStandby(string? member) => preferSync?.Invoke(member);

    public Task<StepResult> ApplyAsync(Step step, CancellationToken cancellationToken = default) => Inner.ApplyAsync(step, cancellationToken);

    public Task<Observation> ObserveAsync(CancellationToken cancellationToken = default) => Inner.ObserveAsync(cancellationToken);

    /// <summary>The wrapped cluster is disposed by its owner.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
