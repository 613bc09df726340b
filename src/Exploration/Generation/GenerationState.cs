using System.Collections.Immutable;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Exploration.Generation;

/// <summary>
/// The generator's view of a cluster while it writes a sequence: which members are running, killed, frozen or partitioned,
/// who it believes is leader (known after bootstrap, a switchover to a named candidate or a failover; unknown after a fault
/// on the leader), the slots it created and consumed, and the dynamic configuration after its patches.
/// What a fault step allows and does is <see cref="MemberFaults"/>'s rule; the generator adds its own policy on top: it
/// faults only a running member (one fault per member at a time) and never the last running one.
/// It is computed from the steps only, so a sequence is generated without running it, and the same view is the
/// precondition check that the shrinker applies to every candidate.
/// </summary>
public sealed record GenerationState(
    ClusterConfig Config,
    ImmutableArray<MemberFaults> Conditions,
    string? BelievedLeader,
    ImmutableSortedSet<string> Slots,
    ImmutableSortedSet<string> Consumed)
{
    /// <summary>The slot names sequences use: s1 and s2 may be permanent, s3 may be ignored.</summary>
    public static ImmutableArray<string> SlotNames { get; } = ["s1", "s2", "s3"];

    /// <summary>A fresh cluster: every member running, pg1 bootstrapped as leader, permanent slots present.</summary>
    public static GenerationState Initial(ClusterConfig config) => new(
        config,
        [.. Enumerable.Repeat(MemberFaults.None, config.Members)],
        ClusterConfig.MemberName(1),
        [.. config.PermanentSlots],
        []);

    private static readonly string[] Names = [.. Enumerable.Range(1, ClusterConfig.MaxMembers).Select(ClusterConfig.MemberName)];

    public IEnumerable<string> Members => Names.Take(Conditions.Length);

    public MemberState ConditionOf(string member) => Conditions[Index(member)].State;

    public IEnumerable<string> MembersIn(MemberState condition)
    {
        for (var i = 0; i < Conditions.Length; i++)
        {
            if (Conditions[i].State == condition)
            {
                yield return Names[i];
            }
        }
    }

    public IReadOnlyList<string> Running => [.. MembersIn(MemberState.Running)];

    public IReadOnlyList<string> Faulty => [.. Members.Where(m => ConditionOf(m) != MemberState.Running)];

    private int RunningCount => Conditions.Count(c => c.Reachable);

    private bool HasMember(string member) =>
        member.Length == 3 && member.StartsWith("pg", StringComparison.Ordinal) && member[2] is >= '1' and <= '9' && member[2] - '0' <= Conditions.Length;

    /// <summary>Why <paramref name="step"/> makes no sense here (a thaw of a member that is not frozen...), or null when it does.</summary>
    public string? Refusal(Step step)
    {
        foreach (var member in step.Members)
        {
            if (!HasMember(member))
            {
                return $"unknown member {member}";
            }
        }
        switch (step)
        {
            case Kill or Freeze or Partition:
                var member = ((MemberStep)step).Member;
                if (ConditionOf(member) != MemberState.Running)
                {
                    return $"{member} is {MemberFaults.Describe(ConditionOf(member))}, not running";
                }
                return RunningCount < 2 ? "it would leave no member running" : null;
            case MemberStep m:
                return Conditions[Index(m.Member)].Refusal(m);
            case Switchover sw:
                if (ConditionOf(sw.From) != MemberState.Running)
                {
                    return $"{sw.From} is not running";
                }
                if (sw.To is { } to && (to == sw.From || ConditionOf(to) != MemberState.Running))
                {
                    return $"{to} is not a healthy replica";
                }
                return RunningCount < 2 ? "no healthy replica" : null;
            case Failover f:
                return ConditionOf(f.To) == MemberState.Running ? null : $"{f.To} is not running";
            case PatchConfig p:
                var problems = Config.Apply(p.Patch).Problems().ToList();
                return problems.Count == 0 ? null : problems[0];
            default:
                return null;
        }
    }

    /// <summary>The view after <paramref name="step"/> (assumed to make sense, see <see cref="Refusal"/>).</summary>
    public GenerationState After(Step step) => step switch
    {
        Kill or Freeze or Partition => Faulted((MemberStep)step),
        MemberStep m => this with { Conditions = Conditions.SetItem(Index(m.Member), Conditions[Index(m.Member)].After(m)) },
        Switchover sw => BelievedLeader == sw.From ? this with { BelievedLeader = sw.To } : this,
        Failover f => this with { BelievedLeader = f.To },
        CreateSlot c => this with
        {
            Slots = Slots.Add(c.SlotName),
            Config = c.Permanent && !Config.PermanentSlots.Contains(c.SlotName)
                ? Config with { PermanentSlots = Config.PermanentSlots.Add(c.SlotName) }
                : Config,
        },
        DropSlot d => this with
        {
            Slots = Slots.Remove(d.SlotName),
            Config = Config with { PermanentSlots = Config.PermanentSlots.Remove(d.SlotName) },
        },
        Consume c when Slots.Contains(c.SlotName) => this with { Consumed = Consumed.Add(c.SlotName) },
        PatchConfig p => this with
        {
            Config = Config.Apply(p.Patch),
            Slots = p.Patch.PermanentSlots is { } permanent ? Slots.Union(permanent) : Slots,
        },
        _ => this,
    };

    /// <summary>Every step of <paramref name="steps"/> makes sense in order, starting from a fresh cluster of <paramref name="config"/>.</summary>
    public static bool Admits(ClusterConfig config, IEnumerable<Step> steps)
    {
        if (config.Problems().Any())
        {
            return false;
        }
        var state = Initial(config);
        foreach (var step in steps)
        {
            if (state.Refusal(step) is not null)
            {
                return false;
            }
            state = state.After(step);
        }
        return true;
    }

    private GenerationState Faulted(MemberStep step) =>
        this with
        {
            Conditions = Conditions.SetItem(Index(step.Member), Conditions[Index(step.Member)].After(step)),
            BelievedLeader = BelievedLeader == step.Member ? null : BelievedLeader,
        };

    private static int Index(string member) => member[2] - '1';
}
