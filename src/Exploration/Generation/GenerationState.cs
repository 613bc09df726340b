using System.Collections.Immutable;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;

namespace PatroniModel.Exploration.Generation;

/// <summary>What has been done to a member's process or network, as the generator tracks it from the steps alone.</summary>
public enum MemberCondition
{
    Running,
    Killed,
    Frozen,
    Partitioned,
}

/// <summary>
/// The generator's view of a cluster while it writes a sequence: which members are running, killed, frozen or partitioned,
/// who it believes is leader (known after bootstrap, a switchover to a named candidate or a failover; unknown after a fault
/// on the leader), the slots it created and consumed, and the dynamic configuration after its patches.
/// It is computed from the steps only, so a sequence is generated without running it, and the same view is the
/// precondition check that the shrinker applies to every candidate.
/// </summary>
public sealed record GenerationState(
    ClusterConfig Config,
    ImmutableArray<MemberCondition> Conditions,
    string? BelievedLeader,
    ImmutableSortedSet<string> Slots,
    ImmutableSortedSet<string> Consumed)
{
    /// <summary>The slot names sequences use: s1 and s2 may be permanent, s3 may be ignored.</summary>
    public static ImmutableArray<string> SlotNames { get; } = ["s1", "s2", "s3"];

    /// <summary>A fresh cluster: every member running, pg1 bootstrapped as leader, permanent slots present.</summary>
    public static GenerationState Initial(ClusterConfig config) => new(
        config,
        [.. Enumerable.Repeat(MemberCondition.Running, config.Members)],
        ClusterConfig.MemberName(1),
        [.. config.PermanentSlots],
        []);

    private static readonly string[] Names = [.. Enumerable.Range(1, ClusterConfig.MaxMembers).Select(ClusterConfig.MemberName)];

    public IEnumerable<string> Members => Names.Take(Conditions.Length);

    public MemberCondition ConditionOf(string member) => Conditions[Index(member)];

    public IEnumerable<string> MembersIn(MemberCondition condition)
    {
        for (var i = 0; i < Conditions.Length; i++)
        {
            if (Conditions[i] == condition)
            {
                yield return Names[i];
            }
        }
    }

    public IReadOnlyList<string> Running => [.. MembersIn(MemberCondition.Running)];

    public IReadOnlyList<string> Faulty => [.. Members.Where(m => ConditionOf(m) != MemberCondition.Running)];

    private int RunningCount => Conditions.Count(c => c == MemberCondition.Running);

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
                if (ConditionOf(member) != MemberCondition.Running)
                {
                    return $"{member} is {ConditionOf(member).ToString().ToLowerInvariant()}, not running";
                }
                return RunningCount < 2 ? "it would leave no member running" : null;
            case Restart r:
                return ConditionOf(r.Member) == MemberCondition.Running ? null : $"{r.Member} is not running";
            case Start s:
                return ConditionOf(s.Member) == MemberCondition.Killed ? null : $"{s.Member} is not killed";
            case Thaw t:
                return ConditionOf(t.Member) == MemberCondition.Frozen ? null : $"{t.Member} is not frozen";
            case Heal h:
                return ConditionOf(h.Member) == MemberCondition.Partitioned ? null : $"{h.Member} is not partitioned";
            case Switchover sw:
                if (ConditionOf(sw.From) != MemberCondition.Running)
                {
                    return $"{sw.From} is not running";
                }
                if (sw.To is { } to && (to == sw.From || ConditionOf(to) != MemberCondition.Running))
                {
                    return $"{to} is not a healthy replica";
                }
                return RunningCount < 2 ? "no healthy replica" : null;
            case Failover f:
                return ConditionOf(f.To) == MemberCondition.Running ? null : $"{f.To} is not running";
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
        Kill k => With(k.Member, MemberCondition.Killed) with { BelievedLeader = BelievedLeader == k.Member ? null : BelievedLeader },
        Freeze f => With(f.Member, MemberCondition.Frozen) with { BelievedLeader = BelievedLeader == f.Member ? null : BelievedLeader },
        Partition p => With(p.Member, MemberCondition.Partitioned) with { BelievedLeader = BelievedLeader == p.Member ? null : BelievedLeader },
        Start s => With(s.Member, MemberCondition.Running),
        Thaw t => With(t.Member, MemberCondition.Running),
        Heal h => With(h.Member, MemberCondition.Running),
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

    private GenerationState With(string member, MemberCondition condition) =>
        this with { Conditions = Conditions.SetItem(Index(member), condition) };

    private static int Index(string member) => member[2] - '1';
}
