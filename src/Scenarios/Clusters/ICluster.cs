using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Scenarios.Clusters;

/// <summary>
/// A Patroni cluster that fault sequences run on: the Akka.NET model and the real Docker cluster both implement it,
/// so one sequence file replays on either and their observations can be compared.
/// </summary>
public interface ICluster : IAsyncDisposable
{
    /// <summary>The configuration the cluster was built with, updated by <see cref="PatchConfig"/> steps.</summary>
    ClusterConfig Config { get; }

    /// <summary>Applies one step. A step the cluster refuses (Patroni answers 412/503, a write finds no leader) is a result, not an exception.</summary>
    Task<StepResult> ApplyAsync(Step step, CancellationToken cancellationToken = default);

    /// <summary>Takes an observation of every member, the consumer and the client.</summary>
    Task<Observation> ObserveAsync(CancellationToken cancellationToken = default);
}

/// <summary>How a step went.</summary>
public enum StepStatus
{
    /// <summary>Done as asked.</summary>
    Ok,

    /// <summary>Refused by the cluster as Patroni or PostgreSQL would refuse it (no candidate, no leader, slot exists...).</summary>
    Refused,

    /// <summary>Attempted and failed part way (a write that got no acknowledgement).</summary>
    Failed,
}

/// <summary>The result of one step: its status, a short detail, and the reconciler's report for a Reconcile step.</summary>
public sealed record StepResult(Step Step, StepStatus Status, string Detail = "", ReconcileObservation? Reconcile = null)
{
    public static StepResult Ok(Step step, string detail = "") => new(step, StepStatus.Ok, detail);
    public static StepResult Refused(Step step, string detail) => new(step, StepStatus.Refused, detail);
    public static StepResult Failed(Step step, string detail) => new(step, StepStatus.Failed, detail);

    /// <summary>One history line: <c>reconcile s1 => gap 0/3000060..0/5000000 (33554336 B)</c>.</summary>
    public override string ToString()
    {
        if (Reconcile is { } r)
        {
            return $"{Step} => {r}";
        }
        var status = Status switch
        {
            StepStatus.Ok => "ok",
            StepStatus.Refused => "refused",
            _ => "failed",
        };
        return Detail.Length == 0 ? $"{Step} => {status}" : $"{Step} => {status}: {Detail}";
    }
}
