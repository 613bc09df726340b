using PatroniModel.Conformance.Running;
using PatroniModel.Model;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>A <see cref="ModelCluster"/> that follows reality's leader choice through <see cref="ModelCluster.PreferredCandidate"/>.</summary>
public static class FollowingModelCluster
{
    public static LeaderFollowingCluster Follow(ModelCluster model) => new(model, member => model.PreferredCandidate = member);
}
