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
        };
        if (member is not null)
        {
            labels[Member] = member;
        }
        return labels;
    }

    /// <summary>
    /// True when the resource belongs to another process on this machine that is still running (its run is live);
    /// false for this process's own resources and for those of processes that are gone (a run killed halfway).
    /// </summary>
    public static bool OwnedByAnotherLiveProcess(IDictionary<string, string>? labels)
    {
        if (labels is null || !labels.TryGetValue(Owner, out var text) || !int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var pid)
            || pid == Environment.ProcessId)
        {
            return false;
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
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
