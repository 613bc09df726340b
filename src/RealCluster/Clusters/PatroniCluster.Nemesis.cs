using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;

namespace PatroniModel.RealCluster.Clusters;

/// <summary>
/// The nemesis on a real cluster: kill, start, freeze, thaw, partition and heal. Which of them a member's faults allow and
/// what each does to them is <see cref="MemberFaults"/>'s rule; this part translates the step into a container operation.
/// </summary>
public sealed partial class PatroniCluster
{
    private async Task<StepResult> NemesisAsync(MemberStep step, CancellationToken cancellationToken)
    {
        var member = Member(step.Member);
        var before = member.Faults;
        if (before.Refusal(step) is { } refusal)
        {
            return StepResult.Refused(step, refusal);
        }
        await (step switch
        {
            Kill => _containers.KillAsync(member.ContainerId, cancellationToken),
            Start => _containers.StartAsync(member.ContainerId, cancellationToken),
            Freeze => _containers.PauseAsync(member.ContainerId, cancellationToken),
            Thaw => _containers.UnpauseAsync(member.ContainerId, cancellationToken),
            Partition => _containers.DisconnectAsync(member.ContainerId, cancellationToken),
            Heal => _containers.ConnectAsync(member.ContainerId, member.Name, member.Address, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(step), step, "not a nemesis step"),
        }).ConfigureAwait(false);
        member.Faults = before.After(step);
        return StepResult.Ok(step);
    }
}
