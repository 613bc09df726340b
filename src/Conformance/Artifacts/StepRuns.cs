using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using PatroniModel.Conformance.Running;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Histories;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Conformance.Artifacts;

/// <summary>Consecutive steps of a timeline page: one step shown on its own, or a run of quiet steps shown as one line.</summary>
public sealed record StepRun(int First, int Last, bool Quiet)
{
    public int Count => Last - First + 1;
}

/// <summary>
/// Condenses a history for the timeline page: a run of at least <see cref="MinimumRun"/> steps that change nothing visible
/// on any side (<see cref="IsQuiet"/>) and agree becomes one line (<c>steps 120-4,031: 3,912 writes, nothing else
/// changed</c>), so a 10,000-step page stays small. A run also ends where a side's history ends.
/// </summary>
public static class StepRuns
{
    public const int MinimumRun = 8;

    public static ImmutableArray<StepRun> Condense(int steps, IReadOnlyList<SideHistory> sides, IReadOnlyList<StepComparison>? comparisons)
    {
        var runs = ImmutableArray.CreateBuilder<StepRun>();
        var start = -1;
        for (var i = 0; i < steps; i++)
        {
            var index = i;
            var quiet = sides.All(s => index >= s.Entries.Length || IsQuiet(s.Entries[index]))
                        && (comparisons is null || index >= comparisons.Count || comparisons[index].Agrees);
            var sideEnds = sides.Any(s => s.Entries.Length == index);
            if (start >= 0 && (!quiet || sideEnds))
            {
                Close(runs, start, i - 1);
                start = -1;
            }
            if (!quiet)
            {
                runs.Add(new StepRun(i, i, Quiet: false));
            }
            else if (start < 0)
            {
                start = i;
            }
        }
        if (start >= 0)
        {
            Close(runs, start, steps - 1);
        }
        return runs.ToImmutable();
    }

    /// <summary>
    /// A step is quiet when the client, the consumer or time took it, it went as asked, it is not a reconcile nor a slot's
    /// creation or drop, and it left the leader, every member's role, state and timeline, the slots' holders and the count
    /// of lost acknowledged rows as they were: what the lanes of the page show. WAL moving is not a change here (the WAL
    /// chart draws it).
    /// </summary>
    public static bool IsQuiet(StepRecord entry) =>
        entry.Result is { Status: StepStatus.Ok, Reconcile: null }
        && entry.Result.Step.Role is StepRole.Client or StepRole.Consumer or StepRole.Time
        && entry.Result.Step is not (CreateSlot or DropSlot or Reconcile)
        && VisibleState(entry.Before) == VisibleState(entry.After);

    /// <summary>The run as one line: <c>steps 120-4,031: 3,900 writes, 12 consumes, nothing else changed</c>.</summary>
    public static string Summary(StepRun run, ImmutableArray<Step> steps)
    {
        var counts = new List<(string Kind, int Count)>();
        for (var i = run.First; i <= run.Last && i < steps.Length; i++)
        {
            var kind = steps[i].Kind;
            var at = counts.FindIndex(c => c.Kind == kind);
            if (at < 0)
            {
                counts.Add((kind, 1));
            }
            else
            {
                counts[at] = (kind, counts[at].Count + 1);
            }
        }
        var kinds = string.Join(", ", counts.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Count:N0} {c.Kind}{(c.Count == 1 ? "" : "s")}")));
        return string.Create(CultureInfo.InvariantCulture, $"steps {run.First:N0}-{run.Last:N0}: {kinds}, nothing else changed");
    }

    private static string VisibleState(Observation observation)
    {
        var text = new StringBuilder();
        text.Append(observation.Leader).Append('|').Append(observation.LostAcknowledged.IsDefault ? 0 : observation.LostAcknowledged.Length);
        foreach (var m in observation.Members.IsDefault ? [] : observation.Members)
        {
            text.Append('|').Append(m.Name).Append(':').Append(m.Role).Append(':').Append(m.State).Append(':').Append(m.Timeline);
            foreach (var slot in m.Slots.IsDefault ? [] : m.Slots)
            {
                text.Append(',').Append(slot.Name);
            }
        }
        return text.ToString();
    }

    private static void Close(ImmutableArray<StepRun>.Builder runs, int first, int last)
    {
        if (last - first + 1 >= MinimumRun)
        {
            runs.Add(new StepRun(first, last, Quiet: true));
            return;
        }
        for (var i = first; i <= last; i++)
        {
            runs.Add(new StepRun(i, i, Quiet: false));
        }
    }
}
