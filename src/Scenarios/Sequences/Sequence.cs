using System.Collections.Immutable;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;

namespace PatroniModel.Scenarios.Sequences;

/// <summary>A fault sequence: a cluster configuration and the steps to run on it (the content of a sequence file).</summary>
/// <param name="Description">One line saying what the sequence shows.</param>
/// <param name="Origin">Where it came from, e.g. the property seed <c>seed,gamma,size</c>; empty when hand-written.</param>
public sealed record Sequence(ClusterConfig Config, ImmutableArray<Step> Steps, string Description = "", string Origin = "")
{
    /// <summary>The history of the steps, one line each.</summary>
    public string History() => string.Join('\n', Steps.Select((s, i) => $"{i,3} {s}"));
}
