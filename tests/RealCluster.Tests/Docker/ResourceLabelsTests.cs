using System.Diagnostics;
using System.Globalization;
using PatroniModel.RealCluster.Docker;
using Xunit;

namespace PatroniModel.Tests.RealClusterTests.Docker;

/// <summary>Which leftovers a run may remove: only those whose owner is gone (pid, boot id and start time checked).</summary>
public sealed class ResourceLabelsTests
{
    private static Dictionary<string, string> LabelsOf(Process owner) => new()
    {
        [ResourceLabels.Project] = ResourceLabels.ProjectValue,
        [ResourceLabels.Run] = "run-of-another-process",
        [ResourceLabels.Owner] = owner.Id.ToString(CultureInfo.InvariantCulture),
        [ResourceLabels.OwnerBoot] = ResourceLabels.BootId,
        [ResourceLabels.OwnerStart] = ResourceLabels.StartOf(owner.Id)!.Value.ToString(CultureInfo.InvariantCulture),
    };

    [Fact]
    public void AnotherRunsResources_AreKeptWhileItsOwnerLives_AndRemovableOnceItWasKilled()
    {
        // Given resources labelled by another live process (a second run on the same engine)
        using var owner = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        var labels = LabelsOf(owner);

        // Then they are not leftovers; this process's own and unlabelled ones are not "another live owner's"
        Assert.True(ResourceLabels.OwnedByAnotherLiveProcess(labels));
        Assert.False(ResourceLabels.OwnedByAnotherLiveProcess(ResourceLabels.For("mine")));
        Assert.False(ResourceLabels.OwnedByAnotherLiveProcess(new Dictionary<string, string> { [ResourceLabels.Project] = ResourceLabels.ProjectValue }));

        // When that owner is SIGKILLed (a crashed run)
        owner.Kill();
        owner.WaitForExit();

        // Then its resources are leftovers the next run removes
        Assert.False(ResourceLabels.OwnedByAnotherLiveProcess(labels));
    }

    [Fact]
    public void TheOwnersStartTime_ReadsTheSameInEveryProcess()
    {
        // Given this process's start time as another process reads it (the label is written by one process, checked by another)
        using var reader = Process.Start(new ProcessStartInfo("sh", $"-c \"cut -d' ' -f22 /proc/{Environment.ProcessId}/stat\"") { RedirectStandardOutput = true, UseShellExecute = false })!;
        var seenByAnother = reader.StandardOutput.ReadToEnd().Trim();
        reader.WaitForExit();

        // Then it equals the label this process writes (no per-process boot-time arithmetic)
        Assert.Equal(seenByAnother, ResourceLabels.For("mine")[ResourceLabels.OwnerStart]);
    }

    [Fact]
    public void ALiveProcessThatOnlySharesThePid_OrALabelFromAnotherBoot_IsNotTheOwner()
    {
        // Given labels naming a live pid, but with another start time, or another boot
        using var process = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        try
        {
            var reused = LabelsOf(process);
            reused[ResourceLabels.OwnerStart] = "1";
            var rebooted = LabelsOf(process);
            rebooted[ResourceLabels.OwnerBoot] = "00000000-0000-0000-0000-000000000000";

            // Then neither is a live owner: a pid reused after the owner died, a label from before a reboot
            Assert.False(ResourceLabels.OwnedByAnotherLiveProcess(reused));
            Assert.False(ResourceLabels.OwnedByAnotherLiveProcess(rebooted));
            Assert.True(ResourceLabels.OwnedByAnotherLiveProcess(LabelsOf(process)));
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
        }
    }
}
