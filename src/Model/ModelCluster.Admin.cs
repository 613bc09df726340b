using Akka.Actor;
using PatroniModel.Model.Protocol;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;

namespace PatroniModel.Model;

/// <summary>The administrator's steps on the model: switchover, failover, restart and <c>PATCH /config</c>.</summary>
public sealed partial class ModelCluster
{
    private List<string> HealthyCandidates(string leader, DcsView view, bool asyncAllowed = false)
    {
        var candidates = new List<string>();
        foreach (var name in _names)
        {
            if (name == leader || !Reachable(name))
            {
                continue;
            }
            var m = Inspect(name);
            if (m.IsPrimary || !m.Streaming || m.Upstream != leader || m.StartInProgress || m.DemoteInProgress)
            {
                continue;
            }
            if (Config.SynchronousMode != SynchronousMode.Off && view.Sync.Standby != name && !asyncAllowed)
            {
                continue;
            }
            candidates.Add(name);
        }
        return candidates;
    }

    private StepResult Switchover(Switchover step)
    {
        if (UnknownMember(step, step.From) is { } unknown)
        {
            return unknown;
        }
        if (step.To is not null && UnknownMember(step, step.To) is { } unknownTo)
        {
            return unknownTo;
        }
        var view = ReadDcs();
        var holder = view.Lease?.Holder;
        if (holder != step.From)
        {
            return StepResult.Refused(step, $"{step.From} is not the leader (leader: {holder ?? "none"})");
        }
        if (!Reachable(step.From))
        {
            return StepResult.Refused(step, $"{step.From} does not answer ({Describe(step.From)})");
        }
        var candidates = HealthyCandidates(step.From, view);
        if (step.To is not null && !candidates.Contains(step.To))
        {
            return StepResult.Refused(step, step.To == step.From
                ? $"{step.To} is already the leader"
                : $"{step.To} is not a healthy candidate (candidates: {string.Join(',', candidates)})");
        }
        if (candidates.Count == 0)
        {
            return StepResult.Refused(step, "no healthy candidate for a switchover");
        }
        return RunManualFailover(step, new FailoverKey(step.From, step.To), step.From, step.From);
    }

    private StepResult Failover(Failover step)
    {
        if (UnknownMember(step, step.To) is { } unknown)
        {
            return unknown;
        }
        var view = ReadDcs();
        var holder = view.Lease?.Holder;
        if (holder == step.To)
        {
            return StepResult.Refused(step, $"{step.To} is already the leader");
        }
        if (!Reachable(step.To))
        {
            return StepResult.Refused(step, $"{step.To} is not healthy ({Describe(step.To)})");
        }
        if (Inspect(step.To) is { StartInProgress: true } or { DemoteInProgress: true })
        {
            // Its REST status has no WAL position until PostgreSQL runs: Patroni counts it unreachable (api.py
            // is_failover_possible, ha.py _MemberStatus.from_api_response). Campaign seed 20261205 PostgreSQL 15 #77.
            return StepResult.Refused(step, "412 failover is not possible: no good candidates have been found");
        }
        if (Config.SynchronousMode != SynchronousMode.Off && !view.Sync.Matches(step.To) && !Config.FailoverToAsyncInSyncMode)
        {
            return StepResult.Refused(step, $"{step.To} is not the synchronous standby ({view.Sync.Standby ?? "none"})");
        }
        if (holder is not null && Reachable(holder) && !HealthyCandidates(holder, view, asyncAllowed: Config.FailoverToAsyncInSyncMode).Contains(step.To))
        {
            return StepResult.Refused(step, $"{step.To} is not streaming from the leader {holder}");
        }
        var wake = holder is not null && Reachable(holder) ? holder : step.To;
        return RunManualFailover(step, new FailoverKey(holder, step.To, IsFailover: true), wake, holder);
    }

    private StepResult RunManualFailover(Step step, FailoverKey key, string wake, string? from)
    {
        var start = _world.Now;
        var mark = _world.Trace.Events.Count;
        _wiring.Dcs.Tell(new SetFailoverKey(key));
        _wiring.Members[wake].Tell(new WakeUp(step.Kind));
        string? promoted = null;
        bool Done()
        {
            var events = _world.Trace.Events;
            for (var i = mark; i < events.Count; i++)
            {
                if (events[i].Kind == ModelEventKinds.Promoted && (key.Candidate is null || events[i].Member == key.Candidate))
                {
                    promoted = events[i].Member;
                    return true;
                }
            }
            mark = events.Count;
            return false;
        }
        if (!Done())
        {
            _world.Clock.RunUntil(_world.Now + ModelTimings.SwitchoverTimeout, Done);
        }
        if (promoted is null)
        {
            _wiring.Dcs.Tell(new SetFailoverKey(null));
            var holder = ReadDcs().Lease?.Holder;
            return StepResult.Failed(step, $"no promotion within {ModelTimings.SwitchoverTimeout} ms (leader now: {holder ?? "none"})");
        }
        // Patroni's REST API answers a switchover or failover from a poll once a second (api.py poll_failover_result):
        // the step returns at the first whole second after the request at which the new leader holds the lock.
        var promotedAfter = _world.Now - start;
        var answeredAt = start + Math.Max(1, (promotedAfter + 999) / 1000) * 1000;
        _world.Clock.RunUntil(answeredAt);
        ThrowIfActorFailed();
        return StepResult.Ok(step, $"{from ?? "no leader"} -> {promoted} in {promotedAfter} ms (answered after {_world.Now - start} ms)");
    }


    private StepResult Restart(Restart step)
    {
        if (UnknownMember(step, step.Member) is { } unknown)
        {
            return unknown;
        }
        if (FaultsOf(step.Member).Refusal(step) is { } refusal)
        {
            return StepResult.Refused(step, refusal);
        }
        if (Inspect(step.Member).StartInProgress)
        {
            // POST /restart while the async executor starts PostgreSQL after a crash (ha.py: "... already in progress").
            return StepResult.Refused(step, "503 restarting after failure already in progress");
        }
        if (Inspect(step.Member).DemoteInProgress)
        {
            return StepResult.Refused(step, "503 manual failover: demote already in progress");
        }
        if (Inspect(step.Member).PromoteInProgress)
        {
            // Patroni 3.0.2's promote task in the async executor (campaign seed 20261204 PostgreSQL 15 #26).
            return StepResult.Refused(step, "503 promote already in progress");
        }
        MemberRef(step.Member).Tell(new RestartPostgres());
        return StepResult.Ok(step);
    }

    private StepResult PatchConfig(PatchConfig step)
    {
        var next = Config.Apply(step.Patch);
        var problems = next.Problems().ToList();
        if (problems.Count > 0)
        {
            return StepResult.Refused(step, string.Join("; ", problems));
        }
        if (!_names.Any(Reachable))
        {
            return StepResult.Refused(step, "no member's REST API answers");
        }
        PatchDynamicConfig(next, step.Patch.ToString());
        return StepResult.Ok(step);
    }

    private void PatchDynamicConfig(ClusterConfig next, string what)
    {
        Config = next;
        _world.Record("dcs", ModelEventKinds.ConfigPatched, what);
        Query<DcsView>(_wiring.Dcs, new PatchDynamicConfig(next));
    }
}
