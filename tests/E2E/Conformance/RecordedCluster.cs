using PatroniModel.Conformance.Running;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>
/// One side's recorded history played back as a cluster: each step returns the recorded result and the recorded
/// observation after it. Lets one real run be compared with several models (a correct one and a planted-bug one)
/// without paying for reality twice.
/// </summary>
public sealed class RecordedCluster(ClusterConfig config, SideHistory history) : ICluster
{
    private int _next;
    private Observation _current = history.Initial;

    public ClusterConfig Config { get; } = config;

    public Task<StepResult> ApplyAsync(Step step, CancellationToken cancellationToken = default)
    {
        if (_next >= history.Entries.Length)
        {
            throw new InvalidOperationException($"the recorded {history.Side} history has only {history.Entries.Length} steps; asked for {step}");
        }
        var entry = history.Entries[_next++];
        if (entry.Result.Step.ToString() != step.ToString())
        {
            throw new InvalidOperationException($"step {entry.Index}: recorded {entry.Result.Step}, asked for {step}");
        }
        _current = entry.After;
        return Task.FromResult(entry.Result);
    }

    public Task<Observation> ObserveAsync(CancellationToken cancellationToken = default) => Task.FromResult(_current);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
