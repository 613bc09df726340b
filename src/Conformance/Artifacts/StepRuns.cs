using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using PatroniModel.Conformance.Running;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Histories;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Conformance.Artifacts;

/// <summary>How a run of steps is shown on the timeline page.</summary>
public enum StepRunKind
{
    /// <summary>One step, in a row of its own.</summary>
    Step,

    /// <summary>Steps that change nothing the lanes show, in one line.</summary>
    Quiet,

    /// <summary>On a page over its row budget, the steps between two key steps, in one line that counts what changed.</summary>
    Busy,
}

/// <summary>Consecutive steps of a timeline page: one step shown on its own, or a run shown as one line.</summary>
public sealed record StepRun(int First, int Last, StepRunKind Kind)
{
    public int Count => Last - First + 1;

    public bool Quiet => Kind == StepRunKind.Quiet;
}

/// <summary>
/// Condenses a history for the timeline page: a run of at least <see cref="MinimumRun"/> steps that change nothing visible
/// on any side (<see cref="IsQuiet"/>) and agree becomes one line (<c>steps 120-4,031: 3,912 writes, nothing else
/// changed</c>). When that still leaves more than <see cref="RowBudget"/> rows, only the key steps (<see cref="IsKey"/>)
/// keep rows of their own and the runs between them become one line each that counts what changed, so a 10,000-step page
/// stays small. A run also ends where a side's history ends.
/// </summary>
public static class StepRuns
{
    public const int MinimumRun = 8;

    public const int RowBudget = 500;

    public static ImmutableArray<StepRun> Condense(
        int steps, IReadOnlyList<SideHistory> sides, IReadOnlyList<StepComparison>? comparisons, int rowBudget = RowBudget)
    {
        var runs = ImmutableArray.CreateBuilder<StepRun>();
        var start = -1;
        for (var i = 0; i < steps; i++)
        {
            var index = i;
            var quiet = sides.All(s => index >= s.Entries.Length || IsQuiet(s.Entries[index]))
                        && (comparisons is null || index >= comparisons.Count || comparisons[index].Agrees);
            if (start >= 0 && (!quiet || SideEnds(sides, i)))
            {
                Close(runs, start, i - 1);
                start = -1;
            }
            if (!quiet)
            {
                runs.Add(new StepRun(i, i, StepRunKind.Step));
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
        return runs.Count <= rowBudget ? runs.ToImmutable() : KeepKeySteps(runs.ToImmutable(), sides, comparisons);
    }

    /// <summary>
    /// A key step keeps its row on a page over its row budget: a disagreement, a step that did not go as asked, a reconcile,
    /// a slot's creation or drop, a configuration change, a change of leader.
    /// </summary>
    public static bool IsKey(int index, IReadOnlyList<SideHistory> sides, IReadOnlyList<StepComparison>? comparisons) =>
        (comparisons is not null && index < comparisons.Count && !comparisons[index].Agrees)
        || sides.Any(s => index < s.Entries.Length && s.Entries[index] is var e
                          && (e.Result.Status != StepStatus.Ok || e.Result.Reconcile is not null
                              || e.Result.Step is PatchConfig or CreateSlot or DropSlot || e.Before.Leader != e.After.Leader));

    private static ImmutableArray<StepRun> KeepKeySteps(ImmutableArray<StepRun> runs, IReadOnlyList<SideHistory> sides, IReadOnlyList<StepComparison>? comparisons)
    {
        var kept = ImmutableArray.CreateBuilder<StepRun>();
        var pending = new List<StepRun>();
        void Flush()
        {
            if (pending.Count == 1)
            {
                kept.Add(pending[0]);
            }
            else if (pending.Count > 1)
            {
                kept.Add(new StepRun(pending[0].First, pending[^1].Last, StepRunKind.Busy));
            }
            pending.Clear();
        }
        foreach (var run in runs)
        {
            if (SideEnds(sides, run.First))
            {
                Flush();
            }
            if (run.Kind == StepRunKind.Step && IsKey(run.First, sides, comparisons))
            {
                Flush();
                kept.Add(run);
            }
            else
            {
                pending.Add(run);
            }
        }
        Flush();
        return kept.ToImmutable();
    }

    private static bool SideEnds(IReadOnlyList<SideHistory> sides, int index) => index > 0 && sides.Any(s => s.Entries.Length == index);

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

    /// <summary>A quiet run as one line: <c>steps 120-4,031: 3,900 writes, 12 consumes, nothing else changed</c>.</summary>
    public static string Summary(StepRun run, ImmutableArray<Step> steps) => $"{Range(run)}: {Kinds(run, steps)}, nothing else changed";

    /// <summary>
    /// A busy run as one line for one side: <c>steps 9-4,999: 500 kills, 500 starts, 3,991 writes; on the model pg3 changed
    /// 1,000 times</c>.
    /// </summary>
    public static string BusySummary(StepRun run, ImmutableArray<Step> steps, SideHistory side)
    {
        var changed = new List<(string What, int Times)>();
        void Count(string what)
        {
            var at = changed.FindIndex(c => c.What == what);
            if (at < 0)
            {
                changed.Add((what, 1));
            }
            else
            {
                changed[at] = (what, changed[at].Times + 1);
            }
        }
        for (var i = run.First; i <= run.Last && i < side.Entries.Length; i++)
        {
            var (before, after) = (side.Entries[i].Before, side.Entries[i].After);
            if (before.Leader != after.Leader)
            {
                Count("the leader");
            }
            foreach (var m in after.Members.IsDefault ? [] : after.Members)
            {
                if (before.Member(m.Name) is not { } was || (was.Role, was.State, was.Timeline) != (m.Role, m.State, m.Timeline))
                {
                    Count(m.Name);
                }
            }
        }
        var changes = changed.Count == 0
            ? "nothing the lanes show changed"
            : string.Join(", ", changed.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.What} changed {c.Times:N0} time{(c.Times == 1 ? "" : "s")}")));
        return $"{Range(run)}: {Kinds(run, steps)}; on {(side.Side == "model" ? "the model" : side.Side)} {changes}";
    }

    private static string Range(StepRun run) => string.Create(CultureInfo.InvariantCulture, $"steps {run.First:N0}-{run.Last:N0}");

    private static string Kinds(StepRun run, ImmutableArray<Step> steps)
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
        return string.Join(", ", counts.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Count:N0} {c.Kind}{(c.Count == 1 ? "" : "s")}")));
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
            runs.Add(new StepRun(first, last, StepRunKind.Quiet));
            return;
        }
        for (var i = first; i <= last; i++)
        {
            runs.Add(new StepRun(i, i, StepRunKind.Step));
        }
    }
}
