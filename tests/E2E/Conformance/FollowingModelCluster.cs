using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>
/// A <see cref="ModelCluster"/> that follows reality's leader choice: the conformance runner tells it which member
/// reality elected (<see cref="ILeaderChoice.PreferLeader"/>), and the model lets only that member race for a free lease
/// (<see cref="ModelCluster.PreferredCandidate"/>) while it is reachable and passes Patroni's own checks (not lagging
/// beyond maximum_lag_on_failover, sync standby in synchronous mode). A choice the model does not allow is not forced:
/// the model elects nobody or its own choice, and the comparison reports the leader difference.
/// </summary>
public sealed class FollowingModelCluster(ModelCluster model) : ICluster, ILeaderChoice
{
    /// <summary>The wrapped model cluster.</summary>
    public ModelCluster Model { get; } = model;

    public ClusterConfig Config => Model.Config;

    /// <summary>The model does not enumerate its allowed winners; a leader difference is reported without the set.</summary>
    public IReadOnlyList<string> LastAllowedLeaders => [];

    public void PreferLeader(string? member) => Model.PreferredCandidate = member;

    public Task<StepResult> ApplyAsync(Step step, CancellationToken cancellationToken = default) => Model.ApplyAsync(step, cancellationToken);

    public Task<Observation> ObserveAsync(CancellationToken cancellationToken = default) => Model.ObserveAsync(cancellationToken);

    public ValueTask DisposeAsync() => Model.DisposeAsync();
}
