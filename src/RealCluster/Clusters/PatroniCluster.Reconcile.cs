using Npgsql;
using PatroniModel.Consumer.Positions;
using PatroniModel.Consumer.Reconciling;
using PatroniModel.RealCluster.Configuration;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.RealCluster.Clusters;

public sealed partial class PatroniCluster
{
    /// <summary>
    /// The product's real endpoint over this cluster: Patroni's REST API on every member's container address (running
    /// members first, so a frozen one does not cost a timeout on every call) and PostgreSQL on the leader's container
    /// address. The reconciler re-discovers the leader through it on every call.
    /// </summary>
    public PatroniRestEndpoint CreateEndpoint() => new(new PatroniEndpointOptions
    {
        RestUrls = [.. Members.OrderBy(m => m.State == MemberState.Running ? 0 : 1).Select(m => m.RestUri)],
        Password = _password,
        AddressMap = m => (Member(m.Name).Address.ToString(), PatroniYaml.PostgresPort),
        RequestTimeout = TimeSpan.FromSeconds(2),
    }, _http);

    private async Task<StepResult> ReconcileAsync(Reconcile step, CancellationToken cancellationToken)
    {
        var position = await _consumers.PositionForAsync(step, async () =>
            await FindWritableLeaderAsync(cancellationToken).ConfigureAwait(false) is { } l
                ? await ReadTimelineAsync(l, cancellationToken).ConfigureAwait(false)
                : 1).ConfigureAwait(false);
        using var endpoint = CreateEndpoint();
        ReconcileObservation observation;
        try
        {
            observation = await ReconcileStepRunner.RunAsync(new SlotReconciler(endpoint), step.SlotName, position, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return StepResult.Failed(step, e.GetBaseException().Message);
        }
        if (observation.Outcome == ReconcileOutcome.Error)
        {
            return new StepResult(step, StepStatus.Failed, observation.Detail, observation);
        }
        // The consumer resumes from the slot the reconciler left (ConsumerLedger's rule; never backwards).
        if (ConsumerLedger.ResumesOn(step, observation) is { } leaderName
            && observation.SlotPosition is { } resumed
            && _consumers.WouldAdvance(step.SlotName, resumed))
        {
            var timeline = await ReadTimelineAsync(Member(leaderName), cancellationToken).ConfigureAwait(false);
            _consumers.Advance(new ConsumerPosition(step.SlotName, resumed, timeline));
        }
        return new StepResult(step, StepStatus.Ok, observation.Detail, observation);
    }

    /// <summary>
    /// Brings the cluster back to a clean shared state between scenarios: starts killed members, thaws frozen ones,
    /// heals partitions, settles, empties Patroni's permanent and ignored slots, drops every logical slot on the leader,
    /// forgets the consumer's positions and the acknowledged rows the leader no longer holds (returned).
    /// </summary>
    public async Task<IReadOnlyList<long>> ResetAsync(CancellationToken cancellationToken = default)
    {
        foreach (var member in Members)
        {
            if (member.IsFrozen)
            {
                await ApplyAsync(new Thaw(member.Name), cancellationToken).ConfigureAwait(false);
            }
            if (member.IsDisconnected)
            {
                await ApplyAsync(new Heal(member.Name), cancellationToken).ConfigureAwait(false);
            }
            if (member.IsStopped)
            {
                await ApplyAsync(new Start(member.Name), cancellationToken).ConfigureAwait(false);
            }
        }
        var leader = await SettleAsync(TimeSpan.FromSeconds(90), cancellationToken).ConfigureAwait(false);
        if (!Config.PermanentSlots.IsDefaultOrEmpty || !Config.IgnoreSlots.IsDefaultOrEmpty)
        {
            var answer = await PatchAsync(new Scenarios.Configuration.ConfigPatch { PermanentSlots = [], IgnoreSlots = [] }, cancellationToken).ConfigureAwait(false);
            if (!answer.IsSuccess)
            {
                throw new InvalidOperationException($"reset: PATCH /config was refused: {answer}");
            }
        }
        foreach (var slot in await ReadSlotsAsync(leader, cancellationToken).ConfigureAwait(false))
        {
            await DropSlotOnAsync(leader, slot.Name, cancellationToken).ConfigureAwait(false);
        }
        _consumers.Clear();
        var held = await ReadRowIdsAsync(leader, cancellationToken).ConfigureAwait(false);
        var lost = _acknowledged.Where(id => !held.Contains(id)).ToList();
        _acknowledged.RemoveAll(id => !held.Contains(id));
        return lost;
    }
}
