using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;

namespace PatroniModel.Model;

/// <summary>Time on the model: settle until stable, wait.</summary>
public sealed partial class ModelCluster
{
    private StepResult Settle(Settle step)
    {
        var start = _world.Now;
        var deadline = start + ModelTimings.SettleTimeout;
        while (true)
        {
            var problem = Unsettled();
            if (problem is null)
            {
                // As the real settle: one more Patroni cycle (loop_wait + 0.5 s) once stable, so a slot-state reload that
                // a just-created physical slot or a permanent-slots change scheduled has happened (unknown slots dropped).
                var stable = _world.Now - start;
                _world.Clock.Advance(SettleTail);
                ThrowIfActorFailed();
                return StepResult.Ok(step, $"settled in {stable} ms (then {SettleTail} ms more)");
            }
            if (_world.Now >= deadline)
            {
                return StepResult.Failed(step, $"not settled after {ModelTimings.SettleTimeout} ms: {problem}; seen: {Observe()}");
            }
            _world.Clock.RunUntil(Math.Min(deadline, _world.Now + ModelTimings.SettlePoll));
            ThrowIfActorFailed();
        }
    }

    /// <summary>The real settle's last wait: one Patroni cycle and half a second (<c>PatroniCluster.SettleAsync</c>).</summary>
    private long SettleTail => Config.Timings.LoopWait * 1000L + 500;

    /// <summary>Null when there is exactly one leader and every running, reachable member streams from it on its timeline and has replayed its WAL.</summary>
    internal string? Unsettled()
    {
        var view = ReadDcs();
        if (view.Lease?.Holder is not { } holder)
        {
            return "no leader";
        }
        if (!Reachable(holder))
        {
            return $"the leader {holder} does not answer ({Describe(holder)})";
        }
        var leader = Inspect(holder);
        if (!leader.Writable)
        {
            return $"the leader {holder} is not writable";
        }
        var replicas = 0;
        foreach (var name in _names)
        {
            if (name == holder || !Reachable(name))
            {
                continue;
            }
            var m = Inspect(name);
            if (m.IsPrimary)
            {
                return $"{name} is a primary too";
            }
            if (!m.Streaming || m.Upstream != holder || m.Timeline != leader.Timeline)
            {
                return $"{name} does not stream from {holder} on tl{leader.Timeline} (upstream {m.Upstream ?? "none"}, tl{m.Timeline})";
            }
            if (m.EndLsn < leader.EndLsn)
            {
                // Only with ModelOptions.MaxReplicationDelayMilliseconds: records still on their way.
                return $"{name} has replayed {m.EndLsn}, {holder} is at {leader.EndLsn}";
            }
            if (!leader.PhysicalSlots.Contains(name))
            {
                // Patroni's loop on the leader has not seen this member's key yet: the reload a joining member causes
                // (unknown slots dropped) is still to come. The real settle waits for the REST /cluster view, which
                // lists a member only once its key is published.
                return $"{holder}'s loop has not seen {name}'s member key yet";
            }
            replicas++;
        }
        if (Config.SynchronousMode != SynchronousMode.Off && replicas > 0 && (leader.SyncStandby is null || ReadDcs().Sync.Standby is null))
        {
            // Settled includes /sync naming the standby (Patroni writes it 2 s after synchronous_standby_names), as the real settle waits for it.
            return $"{holder} has no synchronous standby in /sync yet";
        }
        return null;
    }

    private StepResult WaitStep(Wait step)
    {
        if (step.Seconds < 0)
        {
            return StepResult.Refused(step, $"seconds must not be negative, got {step.Seconds}");
        }
        _world.Clock.Advance(step.Seconds * 1000L);
        return StepResult.Ok(step);
    }
}
