using Akka.Actor;
using PatroniModel.Model.Members;
using PatroniModel.Model.Runtime;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using Kill = PatroniModel.Scenarios.Faults.Kill;

namespace PatroniModel.Model;

/// <summary>
/// The nemesis on the model: kill, start, freeze, thaw, partition and heal. Which of them a member's faults allow and what
/// each does to them is <see cref="MemberFaults"/>'s rule; this part translates the result into the model's process table
/// (<see cref="ModelNetwork"/>) and tells the member's actor.
/// </summary>
public sealed partial class ModelCluster
{
    /// <summary>What has been done to <paramref name="member"/>'s process and network.</summary>
    private MemberFaults FaultsOf(string member) =>
        new(!_world.Network.IsRunning(member), _world.Network.IsFrozen(member), _world.Network.IsPartitioned(member));

    private StepResult Nemesis(MemberStep step)
    {
        if (UnknownMember(step, step.Member) is { } unknown)
        {
            return unknown;
        }
        var before = FaultsOf(step.Member);
        if (before.Refusal(step) is { } refusal)
        {
            return StepResult.Refused(step, refusal);
        }
        var after = before.After(step);
        var network = _world.Network;
        if (after.Frozen != before.Frozen)
        {
            network.SetFrozen(step.Member, after.Frozen);
        }
        if (after.Stopped != before.Stopped)
        {
            network.SetRunning(step.Member, !after.Stopped);
        }
        if (after.Partitioned != before.Partitioned)
        {
            network.SetPartitioned(step.Member, after.Partitioned);
        }
        switch (step)
        {
            case Kill:
                MemberRef(step.Member).Tell(new KillProcess());
                break;
            case Start:
                MemberRef(step.Member).Tell(new StartProcess());
                break;
            case Freeze:
                MemberRef(step.Member).Tell(new FreezeProcess());
                break;
            case Thaw:
                MemberRef(step.Member).Tell(new ThawProcess());
                break;
            case Partition:
                _world.Record(step.Member, ModelEventKinds.Partitioned, "cut off from the DCS, the members and the client");
                break;
            case Heal:
                _world.Record(step.Member, ModelEventKinds.Healed, "");
                MemberRef(step.Member).Tell(new HealMember());
                break;
        }
        return StepResult.Ok(step);
    }
}
