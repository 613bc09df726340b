using System.Diagnostics;
using Docker.DotNet;
using Npgsql;
using PatroniModel.Consumer.Reconciling;
using PatroniModel.RealCluster.Rest;
using PatroniModel.RealCluster.Waiting;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.RealCluster.Clusters;

/// <summary>A step on a real cluster: the translation of each step kind to the SQL, nemesis and admin parts, and how its failures become results.</summary>
public sealed partial class PatroniCluster
{
    /// <inheritdoc />
    public async Task<StepResult> ApplyAsync(Step step, CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        StepResult result;
        try
        {
            result = step switch
            {
                CreateSlot s => await CreateSlotAsync(s, cancellationToken).ConfigureAwait(false),
                DropSlot s => await DropSlotAsync(s, cancellationToken).ConfigureAwait(false),
                Write s => await WriteAsync(s, cancellationToken).ConfigureAwait(false),
                Consume s => await ConsumeAsync(s, cancellationToken).ConfigureAwait(false),
                AdvanceWal s => await AdvanceWalAsync(s, cancellationToken).ConfigureAwait(false),
                Checkpoint s => await CheckpointAsync(s, cancellationToken).ConfigureAwait(false),
                Switchover s => await SwitchoverAsync(s, cancellationToken).ConfigureAwait(false),
                Failover s => await FailoverAsync(s, cancellationToken).ConfigureAwait(false),
                Kill s => await NemesisAsync(s, cancellationToken).ConfigureAwait(false),
                Start s => await NemesisAsync(s, cancellationToken).ConfigureAwait(false),
                Freeze s => await NemesisAsync(s, cancellationToken).ConfigureAwait(false),
                Thaw s => await NemesisAsync(s, cancellationToken).ConfigureAwait(false),
                Partition s => await NemesisAsync(s, cancellationToken).ConfigureAwait(false),
                Heal s => await NemesisAsync(s, cancellationToken).ConfigureAwait(false),
                Restart s => await RestartAsync(s, cancellationToken).ConfigureAwait(false),
                PatchConfig s => await PatchConfigAsync(s, cancellationToken).ConfigureAwait(false),
                Reconcile s => await ReconcileAsync(s, cancellationToken).ConfigureAwait(false),
                Settle s => await SettleStepAsync(s, cancellationToken).ConfigureAwait(false),
                Wait s => await WaitAsync(s, cancellationToken).ConfigureAwait(false),
                _ => throw new ArgumentOutOfRangeException(nameof(step), step, "a step kind the real cluster does not know"),
            };
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or DockerApiException or HttpRequestException
                                   or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            result = StepResult.Failed(step, e.GetBaseException().Message);
        }
        catch (ClusterWaitTimeoutException e)
        {
            result = StepResult.Failed(step, e.Message.Split('\n')[0]);
        }
        if (WritesWal(step) && result.Status != StepStatus.Refused)
        {
            var caughtUp = await CatchUpReplicasAsync(cancellationToken).ConfigureAwait(false);
            Say($"after {step}: {caughtUp}");
        }
        _history.Add(result);
        Say($"{result} ({watch.Elapsed.TotalSeconds:F1}s)");
        return result;
    }

    /// <summary>
    /// The steps that write WAL on the leader (rows, WAL padding, a checkpoint record, a slot's RUNNING_XACTS record),
    /// after which the driver lets streaming replicas catch up (<see cref="CatchUpReplicasAsync"/>) as the model's do.
    /// </summary>
    private static bool WritesWal(Step step) => step is Write or AdvanceWal or Checkpoint or CreateSlot or DropSlot or Reconcile;

    /// <summary>Applies <paramref name="steps"/> in order and returns their results.</summary>
    public async Task<IReadOnlyList<StepResult>> ApplyAllAsync(IEnumerable<Step> steps, CancellationToken cancellationToken = default)
    {
        var results = new List<StepResult>();
        foreach (var step in steps)
        {
            results.Add(await ApplyAsync(step, cancellationToken).ConfigureAwait(false));
        }
        return results;
    }

    private async Task<StepResult> SettleStepAsync(Settle step, CancellationToken cancellationToken)
    {
        try
        {
            var leader = await SettleAsync(null, cancellationToken).ConfigureAwait(false);
            return StepResult.Ok(step, $"leader {leader.Name}");
        }
        catch (ClusterWaitTimeoutException e)
        {
            return StepResult.Failed(step, e.Message.Split('\n')[0]);
        }
    }

    private static async Task<StepResult> WaitAsync(Wait step, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(step.Seconds), cancellationToken).ConfigureAwait(false);
        return StepResult.Ok(step);
    }
}
