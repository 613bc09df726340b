using Akka.Actor;
using PatroniModel.Consumer.Positions;
using PatroniModel.Consumer.Reconciling;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Protocol;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;
using CreateSlotStep = PatroniModel.Scenarios.Faults.CreateSlot;
using DropSlotStep = PatroniModel.Scenarios.Faults.DropSlot;

namespace PatroniModel.Model;

/// <summary>The client's and the consumer's steps on the model: slots, rows, WAL, consume and reconcile.</summary>
public sealed partial class ModelCluster
{
    private StepResult CreateSlot(CreateSlotStep step)
    {
        if (!SlotDefaults.IsValidSlotName(step.SlotName))
        {
            return StepResult.Refused(step, $"invalid slot name '{step.SlotName}' ({SlotDefaults.SlotNameRule})");
        }
        if (LeaderForSql(out var why) is not { } leader)
        {
            return StepResult.Refused(step, why);
        }
        if (!step.Permanent)
        {
            if (Query<SlotAnswer>(MemberRef(leader), new FindSlot(step.SlotName))?.Slot is not null)
            {
                return StepResult.Refused(step, $"replication slot \"{step.SlotName}\" already exists on {leader}");
            }
            var answer = Query<MemberAnswer>(MemberRef(leader), new CreateLogicalSlot(step.SlotName, "the client"))!;
            if (answer.Ok)
            {
                PersistConsumerAt(step.SlotName, leader, "created its slot");
            }
            return answer.Ok ? StepResult.Ok(step, answer.Detail) : StepResult.Refused(step, answer.Detail);
        }
        if (Config.PermanentSlots.Contains(step.SlotName))
        {
            return StepResult.Refused(step, $"{step.SlotName} is already a permanent slot (Patroni re-creates it on its next cycle)");
        }
        PatchDynamicConfig(Config with { PermanentSlots = Config.PermanentSlots.Add(step.SlotName) }, $"permanent_slots += {step.SlotName}");
        var created = Query<SlotAnswer>(MemberRef(leader), new FindSlot(step.SlotName))?.Slot;
        if (created is null)
        {
            return StepResult.Failed(step, $"declared permanent, but Patroni has not created it on {leader} yet");
        }
        PersistConsumerAt(step.SlotName, leader, "created its slot");
        return StepResult.Ok(step, $"{step.SlotName} at {created.ConfirmedFlush} on {leader} (permanent)");
    }

    /// <summary>The consumer persists the slot's position on <paramref name="member"/> (where it starts reading from).</summary>
    private void PersistConsumerAt(string slot, string member, string why, bool replace = false)
    {
        if (Query<SlotAnswer>(MemberRef(member), new FindSlot(slot))?.Slot is { } found)
        {
            _wiring.Consumer.Tell(new PersistPosition(new ConsumerPosition(slot, found.ConfirmedFlush, Inspect(member).Timeline), why, replace));
        }
    }

    private StepResult DropSlot(DropSlotStep step)
    {
        if (LeaderForSql(out var why) is not { } leader)
        {
            return StepResult.Refused(step, why);
        }
        var onLeader = Query<SlotAnswer>(MemberRef(leader), new FindSlot(step.SlotName))?.Slot;
        var permanent = Config.PermanentSlots.Contains(step.SlotName);
        if (onLeader is null && !permanent)
        {
            return StepResult.Refused(step, $"replication slot \"{step.SlotName}\" does not exist on {leader}");
        }
        if (permanent)
        {
            PatchDynamicConfig(Config with { PermanentSlots = Config.PermanentSlots.Remove(step.SlotName) }, $"permanent_slots -= {step.SlotName}");
        }
        if (Query<SlotAnswer>(MemberRef(leader), new FindSlot(step.SlotName))?.Slot is not null)
        {
            Query<MemberAnswer>(MemberRef(leader), new DropLogicalSlot(step.SlotName, "dropped by the client"));
        }
        return StepResult.Ok(step, $"{step.SlotName} dropped on {leader}" + (permanent ? " and from the permanent slots" : ""));
    }

    private StepResult WriteRows(Write step)
    {
        if (step.Rows <= 0)
        {
            return StepResult.Refused(step, $"rows must be positive, got {step.Rows}");
        }
        _box.Clear();
        _wiring.Client.Tell(new WriteRows(step.Rows, _wiring.Sink));
        var deadline = _world.Now + step.Rows * (ModelTimings.CommitTimeout + ModelTimings.WriteInterval) + 1_000;
        WriteBatchDone? done = _box.Take<WriteBatchDone>();
        if (done is null)
        {
            _world.Clock.RunUntil(deadline, () => (done = _box.Take<WriteBatchDone>()) is not null);
        }
        _box.Clear();
        if (done is null)
        {
            throw new InvalidOperationException($"the client did not finish writing {step.Rows} rows by t={deadline}");
        }
        return done.Failed == 0 ? StepResult.Ok(step, done.Detail) : StepResult.Failed(step, done.Detail);
    }

    private StepResult Consume(Consume step)
    {
        var holder = ReadDcs().Lease?.Holder;
        if (holder is null)
        {
            return StepResult.Refused(step, "no leader");
        }
        if (!Reachable(holder))
        {
            return StepResult.Refused(step, $"the leader {holder} does not answer ({Describe(holder)})");
        }
        // On PostgreSQL 17 with synchronized_standby_slots, pg_logical_slot_get_changes on a failover slot first waits until
        // every listed standby confirmed the end of WAL (WaitForStandbyConfirmation): the step waits as long as the real one.
        var deadline = _world.Now + ModelTimings.ConsumeWaitTimeout;
        while (true)
        {
            _box.Clear();
            _wiring.Consumer.Tell(new ConsumeOn(step.SlotName, MemberRef(holder), _wiring.Sink));
            if (_box.Take<SlotConsumed>() is { } consumed)
            {
                _box.Clear();
                return StepResult.Ok(step, $"confirmed {consumed.Lsn} on {consumed.Member} tl{consumed.Timeline}");
            }
            var refused = _box.Take<MemberAnswer>();
            _box.Clear();
            if (refused is { WaitingForStandbys: true } && _world.Now < deadline)
            {
                _world.Clock.RunUntil(Math.Min(deadline, _world.Now + ModelTimings.WriteInterval));
                ThrowIfActorFailed();
                if (ReadDcs().Lease?.Holder == holder && Reachable(holder))
                {
                    continue;
                }
            }
            return refused is { Error: true } ? StepResult.Failed(step, refused.Detail) : StepResult.Refused(step, refused?.Detail ?? $"{holder} did not answer");
        }
    }

    private StepResult AppendToLeader(Step step, WalKind kind, long bytes)
    {
        if (bytes <= 0)
        {
            return StepResult.Refused(step, $"bytes must be positive, got {bytes}");
        }
        if (LeaderForSql(out var why) is not { } leader)
        {
            return StepResult.Refused(step, why);
        }
        // Real WAL never gets near 2^64 (at 1 GB/s it takes 585 years); the model's stops 2 GiB short of it, room for any records after.
        var end = Inspect(leader).EndLsn;
        var limit = ClusterConfig.MaxInitialWal.Value + (1UL << 31);
        if ((ulong)bytes > limit || end.Value > limit - (ulong)bytes)
        {
            return StepResult.Refused(step, $"{bytes} B past {end} would leave the model's WAL space (it ends at {new Lsn(limit)})");
        }
        var answer = Query<MemberAnswer>(MemberRef(leader), new AppendWal(kind, bytes))!;
        return answer.Ok ? StepResult.Ok(step, answer.Detail) : StepResult.Refused(step, answer.Detail);
    }


    private StepResult Reconcile(Reconcile step)
    {
        var consumer = Query<ConsumerInspection>(_wiring.Consumer, InspectConsumer.Instance)!;
        var persisted = consumer.Positions.FirstOrDefault(p => p.Slot == step.SlotName);
        var position = ConsumerLedger.PositionFor(step, persisted, LeaderTimeline);
        var task = ReconcileStepRunner.RunAsync(Reconciler, step.SlotName, position);
        if (!task.IsCompleted)
        {
            throw new InvalidOperationException("the reconciler did not complete synchronously on the model's endpoint");
        }
        var observation = task.GetAwaiter().GetResult();
        if (ConsumerLedger.ResumesOn(step, observation) is { } leaderName)
        {
            PersistConsumerAt(step.SlotName, leaderName, $"resumed after {observation.Outcome}");
        }
        else if (Options.PlantedBugConsumerAdoptsReportedSlot && step.LastConfirmed is null
                 && observation is { Outcome: ReconcileOutcome.Diverged } or { Outcome: ReconcileOutcome.Found, DuplicateBytes: > 0 }
                 && observation.Leader is { } adoptedOn)
        {
            PersistConsumerAt(step.SlotName, adoptedOn, $"adopted the slot after {observation.Outcome} (planted bug)", replace: true);
        }
        var status = observation.Outcome == ReconcileOutcome.Error ? StepStatus.Failed : StepStatus.Ok;
        return new StepResult(step, status, observation.Detail, observation);
    }

    /// <summary>
    /// The cluster's one reconciler, built from <see cref="ModelOptions.ReconcilerFactory"/> at the first reconcile step and
    /// kept for the cluster's whole life, as a real consumer holds one across leader changes: a reconciler that remembered
    /// anything from an earlier call (the leader, a session) is run as it would be in production.
    /// </summary>
    private ISlotReconciler Reconciler =>
        _reconciler ??= Options.ReconcilerFactory is { } factory ? factory(Endpoint) : new SlotReconciler(Endpoint);

    private int LeaderTimeline()
    {
        var holder = ReadDcs().Lease?.Holder;
        return holder is null ? 1 : Inspect(holder).Timeline;
    }
}
