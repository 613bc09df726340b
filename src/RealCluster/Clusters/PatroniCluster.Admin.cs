using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Npgsql;
using NpgsqlTypes;
using PatroniModel.Consumer.Reconciling;
using PatroniModel.RealCluster.Configuration;
using PatroniModel.RealCluster.Rest;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.RealCluster.Clusters;

/// <summary>The administrator's steps on a real cluster, through Patroni's REST API: switchover, failover, restart, <c>PATCH /config</c>.</summary>
public sealed partial class PatroniCluster
{
    private async Task<StepResult> SwitchoverAsync(Switchover step, CancellationToken cancellationToken)
    {
        if (!Config.HasMember(step.From) || (step.To is not null && !Config.HasMember(step.To)))
        {
            return StepResult.Refused(step, "unknown member");
        }
        var answer = await SendToAnyAsync(uri => _rest.SwitchoverAsync(uri, step.From, step.To, cancellationToken), step.From).ConfigureAwait(false);
        return answer.IsSuccess ? StepResult.Ok(step, answer.Body.Trim()) : StepResult.Refused(step, answer.ToString());
    }

    private async Task<StepResult> FailoverAsync(Failover step, CancellationToken cancellationToken)
    {
        if (!Config.HasMember(step.To))
        {
            return StepResult.Refused(step, "unknown member");
        }
        var answer = await SendToAnyAsync(uri => _rest.FailoverAsync(uri, step.To, cancellationToken), step.To).ConfigureAwait(false);
        return answer.IsSuccess ? StepResult.Ok(step, answer.Body.Trim()) : StepResult.Refused(step, answer.ToString());
    }

    private async Task<StepResult> RestartAsync(Restart step, CancellationToken cancellationToken)
    {
        var member = Member(step.Member);
        if (member.Faults.Refusal(step) is { } refusal)
        {
            return StepResult.Refused(step, refusal);
        }
        var answer = await _rest.RestartAsync(member.RestUri, cancellationToken).ConfigureAwait(false);
        return answer.IsSuccess ? StepResult.Ok(step, answer.Body.Trim()) : StepResult.Refused(step, answer.ToString());
    }

    /// <summary>How long a patch-config that adds permanent slots waits for the writable leader to have them.</summary>
    private static readonly TimeSpan PermanentSlotCreation = TimeSpan.FromSeconds(15);

    /// <summary>
    /// <c>PATCH /config</c>. A patch that adds permanent slots returns once the writable leader has them: Patroni creates
    /// them in the loop the PATCH wakes, some milliseconds after the PATCH returns, and the step means the change applied
    /// (as on the model), not a race with the next step. Without a writable leader, or when the leader has not created
    /// them within 15 s, the step still succeeds and says so.
    /// </summary>
    private async Task<StepResult> PatchConfigAsync(PatchConfig step, CancellationToken cancellationToken)
    {
        var before = Config.PermanentSlots;
        var answer = await PatchAsync(step.Patch, cancellationToken).ConfigureAwait(false);
        if (!answer.IsSuccess)
        {
            return StepResult.Refused(step, answer.ToString());
        }
        var added = Config.PermanentSlots.Except(before).ToList();
        if (added.Count == 0 || await FindWritableLeaderAsync(cancellationToken).ConfigureAwait(false) is not { } leader)
        {
            return StepResult.Ok(step);
        }
        foreach (var slot in added)
        {
            try
            {
                await WaitForSlotAsync(leader, slot, PermanentSlotCreation, cancellationToken).ConfigureAwait(false);
            }
            catch (Waiting.ClusterWaitTimeoutException)
            {
                return StepResult.Ok(step, $"Patroni had not created {slot} on {leader.Name} within {PermanentSlotCreation.TotalSeconds:0} s");
            }
        }
        return StepResult.Ok(step, $"{string.Join(", ", added)} on {leader.Name}");
    }

    /// <summary>
    /// <c>PATCH /config</c> for <paramref name="patch"/> (the body is <see cref="PatroniConfigPatch"/>'s); updates
    /// <see cref="Config"/> when Patroni accepts it.
    /// </summary>
    private async Task<RestAnswer> PatchAsync(ConfigPatch patch, CancellationToken cancellationToken)
    {
        var body = PatroniConfigPatch.Body(Config, patch);
        var answer = await SendToAnyAsync(uri => _rest.PatchConfigAsync(uri, (JsonObject)body.DeepClone(), cancellationToken), null).ConfigureAwait(false);
        if (answer.IsSuccess)
        {
            Config = Config.Apply(patch);
        }
        return answer;
    }

    /// <summary>Sends a REST command to <paramref name="preferred"/> first, then to the other running members, until one answers.</summary>
    private async Task<RestAnswer> SendToAnyAsync(Func<Uri, Task<RestAnswer>> send, string? preferred)
    {
        var order = RunningMembers.OrderBy(m => m.Name == preferred ? 0 : 1).ToList();
        RestAnswer? last = null;
        foreach (var member in order)
        {
            last = await send(member.RestUri).ConfigureAwait(false);
            if ((int)last.Status is not 503 || !last.Body.Contains("got no answer", StringComparison.Ordinal))
            {
                return last;
            }
        }
        return last ?? new RestAnswer(System.Net.HttpStatusCode.ServiceUnavailable, "no running member to send to");
    }
}
