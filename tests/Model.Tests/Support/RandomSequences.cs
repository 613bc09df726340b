using System.Collections.Immutable;
using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Tests.ModelTests.Support;

/// <summary>
/// Pseudo-random fault sequences driven by a seed and the cluster's state (the property suite has the real generators;
/// these are for the model's own invariant, determinism and benchmark tests). Faults hit the leader half the time and
/// never break more than a minority of members at once, so failovers happen and the cluster can recover.
/// </summary>
public static class RandomSequences
{
    /// <summary>Runs <paramref name="steps"/> steps; <paramref name="afterEach"/> sees each step and its result right after it ran.</summary>
    public static List<(Step Step, StepResult Result)> Run(ModelCluster cluster, int seed, int steps, Action<Step, StepResult>? afterEach = null)
    {
        var random = new Random(seed);
        var history = new List<(Step, StepResult)>(steps);
        void Apply(Step step)
        {
            var result = cluster.Apply(step);
            history.Add((step, result));
            afterEach?.Invoke(step, result);
        }
        foreach (var opening in new Step[] { new CreateSlot("s1"), new Write(2), new Consume("s1") })
        {
            Apply(opening);
        }
        while (history.Count < steps)
        {
            Apply(Next(cluster, random));
        }
        return history;
    }

    private static Step Next(ModelCluster cluster, Random random)
    {
        var names = cluster.Config.MemberNames.ToArray();
        var broken = names.Where(n => cluster.StateOf(n) != MemberState.Running).ToArray();
        var healthy = names.Where(n => cluster.StateOf(n) == MemberState.Running).ToArray();
        var leader = cluster.Leader;
        var budget = (names.Length - 1) / 2;
        string Any() => names[random.Next(names.Length)];
        string Target() => leader is not null && random.Next(2) == 0 ? leader : healthy.Length > 0 ? healthy[random.Next(healthy.Length)] : Any();
        var r = random.Next(100);
        if (broken.Length > 0 && r < 25)
        {
            var member = broken[random.Next(broken.Length)];
            return cluster.StateOf(member) switch
            {
                MemberState.Stopped => new Start(member),
                MemberState.Frozen => new Thaw(member),
                _ => new Heal(member),
            };
        }
        if (r < 40 && broken.Length < budget || r < 33)
        {
            return random.Next(3) switch
            {
                0 => new Kill(Target()),
                1 => new Freeze(Target()),
                _ => new Partition(Target()),
            };
        }
        return r switch
        {
            < 46 => new Switchover(leader ?? Any(), random.Next(2) == 0 ? null : Any()),
            < 48 => new Failover(Any()),
            < 68 => new Write(random.Next(1, 6)),
            < 73 => new Consume("s1"),
            < 76 => new AdvanceWal(random.Next(1, 5) * 1024),
            < 78 => new Checkpoint(),
            < 83 => new Reconcile("s1"),
            < 87 => new Settle(),
            < 91 => new Wait(random.Next(1, 16)),
            < 93 => new Restart(Any()),
            < 95 => new CreateSlot(random.Next(2) == 0 ? "s2" : "s3", random.Next(2) == 0),
            < 96 => new DropSlot(random.Next(2) == 0 ? "s2" : "s1"),
            < 98 => new PatchConfig(new ConfigPatch { IgnoreSlots = random.Next(2) == 0 ? ImmutableArray.Create("s1") : [] }),
            _ => new PatchConfig(new ConfigPatch { PermanentSlots = random.Next(2) == 0 ? ImmutableArray.Create("s2") : [] }),
        };
    }
}
