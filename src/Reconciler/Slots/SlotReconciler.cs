using NpgsqlTypes;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Naming;

namespace PatroniModel.Reconciler.Slots;

/// <summary>
/// Makes sure a CDC consumer's logical slot exists on the current Patroni leader and reports exactly what the consumer
/// lost, will see twice, or holds that the leader's timeline never had.
/// </summary>
/// <remarks>
/// Positions are compared with the slot's <c>confirmed_flush_lsn</c>, never <c>restart_lsn</c>: PostgreSQL silently
/// forwards a start request below <c>confirmed_flush_lsn</c>
/// (https://www.postgresql.org/docs/15/logicaldecoding-explanation.html#LOGICALDECODING-REPLICATION-SLOTS).
/// The leader is re-discovered through Patroni's REST API on every call. The reconciler never drops a slot and never
/// changes Patroni's configuration: Patroni's permanent slots are Patroni's (https://patroni.readthedocs.io/en/latest/dynamic_configuration.html).
/// </remarks>
/// <param name="plugin">The output plugin a re-created slot gets.</param>
/// <param name="database">The database the consumer's slots live in (matched against <c>ignore_slots</c> rules for a missing slot).</param>
public sealed class SlotReconciler(IPatroniEndpoint endpoint, string plugin = "test_decoding", string database = "postgres") : ISlotReconciler
{
    /// <summary>
    /// Finds the leader, checks <paramref name="slot"/> against the consumer's <paramref name="lastConfirmed"/> position,
    /// re-creates the slot when it is missing, and reports the outcome.
    /// </summary>
    /// <exception cref="InvalidSlotNameException">The name is not <c>[a-z0-9_]{1,63}</c>; nothing was sent.</exception>
    /// <exception cref="PatroniUnreachableException">No Patroni REST endpoint answered.</exception>
    /// <exception cref="NoLeaderException">Patroni answered but no member is leader.</exception>
    public async Task<SlotReport> EnsureSlotAsync(string slot, ConfirmedPosition? lastConfirmed, CancellationToken cancellationToken = default)
    {
        SlotName.Validate(slot);
        var cluster = await endpoint.GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var leader = cluster.Leader ?? throw new NoLeaderException(cluster);
        var slotConfig = await endpoint.GetSlotConfigAsync(cancellationToken).ConfigureAwait(false);

        await using var session = await endpoint.ConnectAsync(leader, cancellationToken).ConfigureAwait(false);
        var identity = await session.IdentifySystemAsync(cancellationToken).ConfigureAwait(false);
        var fork = await FindForkAsync(session, identity.Timeline, lastConfirmed, cancellationToken).ConfigureAwait(false);

        var state = await session.FindSlotAsync(slot, cancellationToken).ConfigureAwait(false);
        if (state is not null && state.SlotType != "logical")
        {
            throw new InvalidOperationException($"slot '{slot}' on {leader.Name} is a {state.SlotType} slot, not a logical one; the reconciler leaves it alone");
        }
        var created = false;
        NpgsqlLogSequenceNumber? consistentPoint = null;
        if (state is null)
        {
            try
            {
                consistentPoint = await session.CreateLogicalSlotAsync(slot, plugin, cancellationToken).ConfigureAwait(false);
                created = true;
            }
            catch (SlotAlreadyExistsException)
            {
                // Patroni (a permanent slot) or another consumer created it between our look and our create: classify what is there now.
                state = await session.FindSlotAsync(slot, cancellationToken).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"slot '{slot}' was reported as existing and then not found on {leader.Name}");
            }
        }

        // A slot the reconciler created is read back for its failover flag (PostgreSQL 17 creates it as a failover slot).
        var failover = created
            ? (await session.FindSlotAsync(slot, cancellationToken).ConfigureAwait(false))?.Failover ?? false
            : state!.Failover;
        var protection = ProtectionOf(slot, slotConfig, state?.Database ?? database, state?.Plugin ?? plugin);
        var report = new SlotReport
        {
            Slot = slot,
            Outcome = SlotOutcome.Found,
            Leader = leader.Name,
            Timeline = identity.Timeline,
            LeaderLsn = identity.XLogPos,
            LastConfirmed = lastConfirmed,
            Protection = protection,
            PermanentSlotWasMissing = protection == SlotProtection.Permanent && created,
            CreatedByReconciler = created,
            FailoverSlot = failover,
            Fork = fork,
        };

        report = created
            ? Classify(report, consistentPoint!.Value, lastConfirmed)
            : ClassifyExisting(report, state!, lastConfirmed);
        return fork is null ? report : report with { Outcome = SlotOutcome.Diverged };
    }

    /// <summary>PostgreSQL's rule for replication slot names (ReplicationSlotValidateName).</summary>
    public static bool IsValidSlotName(string? slot) => SlotName.IsValid(slot);

    /// <summary>Whether Patroni keeps <paramref name="slot"/> when it reloads its slot state.</summary>
    public static SlotProtection ProtectionOf(string slot, PatroniSlotConfig config, string? database = "postgres", string? plugin = "test_decoding")
    {
        if (config.PermanentSlots.Contains(slot, StringComparer.Ordinal))
        {
            return SlotProtection.Permanent;
        }
        return config.IgnoreSlots.Any(rule => rule.Matches(slot, "logical", database, plugin))
            ? SlotProtection.Ignored
            : SlotProtection.Unprotected;
    }

    private static SlotReport Classify(SlotReport report, NpgsqlLogSequenceNumber consistentPoint, ConfirmedPosition? lastConfirmed)
    {
        report = report with { SlotPosition = consistentPoint };
        if (lastConfirmed is null)
        {
            return report with { Outcome = SlotOutcome.Created };
        }
        var gap = WalGap.Between(lastConfirmed.Lsn, consistentPoint);
        return gap is null
            ? report with { Outcome = SlotOutcome.RecreatedNoGap }
            : report with { Outcome = SlotOutcome.RecreatedWithGap, Gap = gap };
    }

    private static SlotReport ClassifyExisting(SlotReport report, SlotState state, ConfirmedPosition? lastConfirmed)
    {
        var position = state.ConfirmedFlushLsn;
        report = report with { SlotPosition = position };
        if (lastConfirmed is null || position is null)
        {
            return report with { Outcome = SlotOutcome.Found };
        }
        var ahead = WalGap.Between(lastConfirmed.Lsn, position.Value);
        if (ahead is not null)
        {
            return report with { Outcome = SlotOutcome.FoundAhead, Gap = ahead };
        }
        return report with { Outcome = SlotOutcome.Found, DuplicateBytes = WalGap.Distance(position.Value, lastConfirmed.Lsn) };
    }

    /// <summary>
    /// The fork that puts the consumer's position on a branch the leader's timeline never had, or null.
    /// The consumer's timeline <c>T</c> ended at the switch point the leader's history records for <c>T</c>;
    /// a position past it holds phantoms. A consumer timeline that is not in the leader's history at all (a sibling
    /// branch, or a timeline newer than the leader's) diverged at an unknown point.
    /// </summary>
    private static async Task<TimelineFork?> FindForkAsync(
        ILeaderSession session, int leaderTimeline, ConfirmedPosition? lastConfirmed, CancellationToken cancellationToken)
    {
        if (lastConfirmed?.Timeline is not { } consumerTimeline || consumerTimeline == leaderTimeline)
        {
            return null;
        }
        if (consumerTimeline > leaderTimeline)
        {
            return new TimelineFork(null, consumerTimeline, leaderTimeline);
        }
        var history = await session.TimelineHistoryAsync(leaderTimeline, cancellationToken).ConfigureAwait(false);
        var ended = history.FirstOrDefault(h => h.Timeline == consumerTimeline);
        if (ended is null)
        {
            return new TimelineFork(null, consumerTimeline, leaderTimeline);
        }
        return lastConfirmed.Lsn > ended.SwitchPoint
            ? new TimelineFork(ended.SwitchPoint, consumerTimeline, leaderTimeline)
            : null;
    }
}
