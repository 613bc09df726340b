namespace PatroniModel.RealCluster.Docker;

/// <summary>
/// The labels every container and network of a real cluster carries: the project label finds the leftovers of
/// earlier runs (removed at start), the run label finds this run's resources (removed at dispose).
/// </summary>
public static class ResourceLabels
{
    /// <summary>Present on every resource this project creates.</summary>
    public const string Project = "org.patroni-model.project";

    /// <summary>The value of <see cref="Project"/>.</summary>
    public const string ProjectValue = "patroni-model";

    /// <summary>The run id of the cluster that created the resource.</summary>
    public const string Run = "org.patroni-model.run";

    /// <summary>The id of the process that created the resource: leftovers of a live process (a parallel test) are not removed.</summary>
    public const string Owner = "org.patroni-model.owner-pid";

    /// <summary>The kernel's boot id when the owner created the resource: after a reboot no owner is alive, whatever its pid.</summary>
    public const string OwnerBoot = "org.patroni-model.owner-boot";

    /// <summary>The owner's start time (clock ticks since boot): a later process that got the same pid is not the owner.</summary>
    public const string OwnerStart = "org.patroni-model.owner-start";

    /// <summary>The member (or <c>etcd1</c>) a container runs.</summary>
    public const string Member = "org.patroni-model.member";

    /// <summary>Labels for a resource of run <paramref name="runId"/>.</summary>
    public static Dictionary<string, string> For(string runId, string? member = null)
    {
        var labels = new Dictionary<string, string>
        {
            [Project] = ProjectValue,
            [Run] = runId,
            [Owner] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [OwnerBoot] = BootId,
            [OwnerStart] = StartOf(Environment.ProcessId)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
        };
        if (member is not null)
        {
            labels[Member] = member;
        }
        return labels;
    }

    /// <summary>
    /// True when the resource belongs to another process on this machine that is still running (its run is live): the
    /// owner's pid runs, since the same boot, and started when the owner did (so a pid reused after the owner died, or a
    /// label from before a reboot, is not a live owner). False for this process's own resources and for those of
    /// processes that are gone (a run killed halfway).
    /// </summary>
    public static bool OwnedByAnotherLiveProcess(IDictionary<string, string>? labels)
    {
        if (labels is null || !labels.TryGetValue(Owner, out var text) || !int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var pid)
            || pid == Environment.ProcessId)
        {
            return false;
        }
        if (labels.TryGetValue(OwnerBoot, out var boot) && boot.Length > 0 && BootId.Length > 0 && boot != BootId)
        {
            return false;
        }
        var started = StartOf(pid);
        if (started is null)
        {
            return false;
        }
        return !labels.TryGetValue(OwnerStart, out var start) || start.Length == 0
               || start == started.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>This machine's boot id (<c>/proc/sys/kernel/random/boot_id</c>), or empty where there is none.</summary>
    public static string BootId { get; } = File.Exists("/proc/sys/kernel/random/boot_id") ? File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim() : "";

    /// <summary>
    /// When process <paramref name="pid"/> started, in clock ticks since boot (field 22 of <c>/proc/PID/stat</c>, the
    /// same number whichever process reads it; .NET's <c>Process.StartTime</c> adds a boot time each process computes
    /// for itself, which differs by milliseconds between processes), or null when it does not run.
    /// </summary>
    public static long? StartOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After "pid (comm) " the fields start at field 3 (state); starttime is field 22.
            return fields.Length > 19 && long.TryParse(fields[19], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks)
                && fields[0] != "Z" ? ticks : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A Docker list filter on the project label.</summary>
    public static IDictionary<string, IDictionary<string, bool>> ProjectFilter() =>
        new Dictionary<string, IDictionary<string, bool>>
        {
            ["label"] = new Dictionary<string, bool> { [$"{Project}={ProjectValue}"] = true },
        };

    /// <summary>A Docker list filter on one run's label.</summary>
    public static IDictionary<string, IDictionary<string, bool>> RunFilter(string runId) =>
        new Dictionary<string, IDictionary<string, bool>>
        {
            ["label"] = new Dictionary<string, bool> { [$"{Run}={runId}"] = true },
        };
}
